/**
 * The "New job" dialog: the spec fields with choices from the cluster (partitions, their GPU types
 * and limits), and the batch script the server would submit, rendered live (debounced) by
 * `POST jobs/preview` so people see, and may copy, the sbatch script before anything runs.
 *
 * Submitting keeps the dialog open until the server accepted the job: per-field messages of a 400
 * appear next to the fields, Slurm's own message of a 422 as a banner above them.
 */
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { APIError, JobsClient, TritonAPI, TritonClient } from '../api';
import { fieldErrors } from './format';
import { formFromSpec, IJobForm, ISpecResult, specFromForm, ADVANCED_FIELDS } from './spec';
import {
  CHECKPOINT_FIELDS,
  checkpointFromForm,
  EMPTY_CHECKPOINT,
  ICheckpointForm,
  SubmitDialog,
  SubmitForm
} from './submitform';
import { FIELD_LABELS, FIELD_OF, JobFormView, PreviewState } from './formview';
import { ProfileMode } from './profilefield';

const PREVIEW_DELAY_MS = 400;

/** The dialog's body: owns the form state, the preview and the submission. */
export class JobForm extends SubmitForm<TritonAPI.IJobDetail> {
  constructor(options: JobForm.IOptions = {}) {
    super();
    this.addClass('tml-JobForm');
    this._form = formFromSpec(options.spec ?? {});
    this._ddp = options.spec?.ddp === true;
    this._profile = options.spec?.profile ?? '';
    this._copy = options.copy ?? (() => undefined);
    this._showAdvanced = ADVANCED_FIELDS.some(key => this._form[key] !== '');
    this._highlight = options.highlight ?? {};
    TritonClient.cluster()
      .then(cluster => {
        this._cluster = cluster;
        this._clusterError = null;
      })
      .catch(error => {
        this._clusterError = (error as Error).message;
      })
      .finally(() => this.update());
    this._schedulePreview(0);
  }

  /** The job the server accepted (after a successful `submit()`), for the dialog's result. */
  getValue(): TritonAPI.IJobDetail | null {
    return this.submitted;
  }

  /** Send the job; resolves with true when the server accepted it. */
  async submit(): Promise<boolean> {
    if (this.submitting) {
      return false;
    }
    const result = specFromForm(this._form);
    if (!result.runnable || Object.keys(result.errors).length) {
      this._errors = { ...result.errors };
      if (!result.runnable) {
        this._errors[this._form.run] = 'say what the job runs';
      }
      this._banner = null;
      this.update();
      return false;
    }
    const errors: { [field: string]: string } = {};
    checkpointFromForm(this._checkpoint, errors);
    if (Object.keys(errors).length) {
      this._errors = errors;
      this.update();
      return false;
    }
    return this.send(() => JobsClient.submit(this._spec(result)));
  }

  protected readonly focusSelector = 'input[name="name"]';
  protected readonly shownFields: ReadonlySet<string> = new Set([...Object.keys(FIELD_LABELS), ...CHECKPOINT_FIELDS]);

  dispose(): void {
    if (this._timer) {
      clearTimeout(this._timer);
    }
    super.dispose();
  }

  render(): JSX.Element {
    return (
      <JobFormView
        form={this._form}
        result={specFromForm(this._form)}
        errors={this._errors}
        banner={this._banner}
        cluster={this._cluster}
        clusterError={this._clusterError}
        script={this._script}
        previewState={this._previewState}
        previewMessage={this._previewMessage}
        submitting={this.submitting}
        showAdvanced={this._showAdvanced}
        onAdvanced={open => {
          this._showAdvanced = open;
          this.update();
        }}
        onChange={changes => this._change(changes)}
        ddp={this._ddp}
        onDdp={ddp => {
          this._ddp = ddp;
          // The layout of GPUs and tasks changes with it: their server messages may no longer hold.
          for (const field of ['ddp', 'gpus', 'ntasks_per_node', 'nodes']) {
            delete this._errors[field];
          }
          this.update();
          this._schedulePreview(PREVIEW_DELAY_MS);
        }}
        onCopy={() => this._copy(this._script)}
        profile={this._profile}
        onProfile={mode => {
          this._profile = mode;
          delete this._errors.profile;
          this.update();
          this._schedulePreview(PREVIEW_DELAY_MS);
        }}
        checkpoint={this._checkpoint}
        onCheckpoint={changes => {
          this._checkpoint = { ...this._checkpoint, ...changes };
          for (const field of CHECKPOINT_FIELDS) {
            delete this._errors[field];
          }
          this.update();
          this._schedulePreview(PREVIEW_DELAY_MS);
        }}
      />
    );
  }

  /** What preview and submission send: the form's spec, the DDP choice, the dialog as origin. */
  private _spec(result: ISpecResult): TritonAPI.IJobSpec & { origin: Partial<TritonAPI.IOrigin> } {
    const checkpoint = checkpointFromForm(this._checkpoint);
    return {
      ...result.spec,
      ...(this._ddp ? { ddp: true } : {}),
      ...(this._profile ? { profile: this._profile } : {}),
      ...(checkpoint ? { checkpoint } : {}),
      origin: { kind: 'dialog' }
    };
  }

  private _change(changes: Partial<IJobForm>): void {
    this._form = { ...this._form, ...changes };
    // A field's server message goes as soon as the person edits that field.
    for (const key of Object.keys(changes)) {
      const field = FIELD_OF[key] ?? key;
      delete this._errors[field];
      if (key === 'run' || key === 'command' || key === 'script' || key === 'code') {
        delete this._errors.command;
        delete this._errors.script;
        delete this._errors.code;
        delete this._errors.spec;
      }
    }
    this.update();
    this._schedulePreview(PREVIEW_DELAY_MS);
  }

  private _schedulePreview(delay: number): void {
    if (this._timer) {
      clearTimeout(this._timer);
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this._preview();
    }, delay);
  }

  private async _preview(): Promise<void> {
    const result = specFromForm(this._form);
    const seq = ++this._seq;
    if (!result.runnable) {
      this._previewState = 'idle';
      this._previewMessage = 'Say what the job runs to see its batch script.';
      this.update();
      return;
    }
    if (Object.keys(result.errors).length) {
      this._previewState = 'invalid';
      this._previewMessage = 'Fix the fields marked in red to see the script.';
      this.update();
      return;
    }
    this._previewState = 'loading';
    this.update();
    try {
      // Same origin as the submission, so the preview is the very script that will be written.
      const answer = await JobsClient.preview(this._spec(result));
      if (seq !== this._seq) {
        return;
      }
      this._script = answer.script;
      this._previewState = 'ok';
      this._previewMessage = '';
      // Fields the server accepted lose their old messages.
      this._errors = {};
    } catch (error) {
      if (seq !== this._seq) {
        return;
      }
      this._previewState = 'invalid';
      if (error instanceof APIError && error.status === 400 && error.body?.errors) {
        this._errors = fieldErrors(error.body.errors);
        this._previewMessage = 'Fix the fields marked in red to see the script.';
      } else {
        this._previewMessage = (error as Error).message;
      }
    }
    this.update();
  }

  protected showError(error: unknown): void {
    super.showError(error);
    if (ADVANCED_FIELDS.some(field => this._errors[field])) {
      this._showAdvanced = true; // a message on a field under "More options" must be seen
    }
  }

  private _form: IJobForm;
  private _ddp: boolean;
  private _profile: ProfileMode;
  private _checkpoint: ICheckpointForm = { ...EMPTY_CHECKPOINT };
  private _copy: (text: string) => void;
  private _cluster: TritonAPI.IClusterSummary | null = null;
  private _clusterError: string | null = null;
  private _script = '';
  private _previewState: PreviewState = 'idle';
  /** Mark the fields a suggestion changed (class and tooltip with the reason), after each render. */
  protected onUpdateRequest(msg: Message): void {
    super.onUpdateRequest(msg);
    const mark = () => {
      for (const [field, reason] of Object.entries(this._highlight)) {
        const node = this.node.querySelector<HTMLElement>(`.tml-Field[data-field="${field}"]`);
        node?.classList.add('tml-mod-suggested');
        node?.setAttribute('title', reason);
      }
    };
    void (this.renderPromise ?? Promise.resolve()).then(mark);
  }

  private _highlight: { [field: string]: string };
  private _previewMessage = '';
  private _showAdvanced = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _seq = 0;
}

export namespace JobForm {
  export interface IOptions {
    /** Pre-fill (e.g. from the catalog's "Use in a job"). */
    spec?: Partial<TritonAPI.IJobSpec>;
    copy?: (text: string) => void;
    /** Fields to highlight as changed (spec field -> why), e.g. by "Resubmit with these settings". */
    highlight?: { [field: string]: string };
  }
}

/** The New job dialog: Submit (and Enter) waits for the server; see SubmitDialog. */
export class NewJobDialog extends SubmitDialog<TritonAPI.IJobDetail> {
  constructor(form: JobForm) {
    super(form, {
      title: 'New Slurm job',
      accept: 'Submit job',
      className: 'tml-NewJobDialog',
      focusNodeSelector: 'input[name="name"]'
    });
  }
}
