/**
 * The "New job" dialog: the spec fields with choices from the cluster (partitions, their GPU types
 * and limits), and the batch script the server would submit, rendered live (debounced) by
 * `POST jobs/preview` so people see, and may copy, the sbatch script before anything runs.
 *
 * Submitting keeps the dialog open until the server accepted the job: per-field messages of a 400
 * appear next to the fields, Slurm's own message of a 422 as a banner above them.
 */
import { copyIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { APIError, JobsClient, TritonAPI, TritonClient } from '../api';
import { fieldErrors } from './format';
import { formField, formText, ResourceFields } from './resources';
import { formFromSpec, IJobForm, ISpecResult, RunKind, specFromForm, ADVANCED_FIELDS } from './spec';
import {
  CHECKPOINT_FIELDS,
  checkpointFromForm,
  CheckpointFields,
  EMPTY_CHECKPOINT,
  IBanner,
  ICheckpointForm,
  SubmitBanner,
  SubmitDialog,
  SubmitForm
} from './submitform';

const PREVIEW_DELAY_MS = 400;

/** The dialog's body: owns the form state, the preview and the submission. */
export class JobForm extends SubmitForm<TritonAPI.IJobDetail> {
  constructor(options: JobForm.IOptions = {}) {
    super();
    this.addClass('tml-JobForm');
    this._form = formFromSpec(options.spec ?? {});
    this._ddp = options.spec?.ddp === true;
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

type PreviewState = 'idle' | 'loading' | 'ok' | 'invalid';

/** Form keys whose errors the server reports under another name. */
const FIELD_OF: { [key: string]: string } = {
  gpuCount: 'gpus',
  gpuType: 'gpus',
  cpus: 'cpus_per_task'
};

/** The spec fields the form shows (a server message for another field goes in the banner). */
const FIELD_LABELS: { [field: string]: string } = {
  name: 'Name',
  partition: 'Partition',
  ddp: 'Distributed (DDP)',
  gpus: 'GPUs',
  cpus_per_task: 'CPUs',
  mem: 'Memory',
  time: 'Time limit',
  modules: 'Modules',
  env: 'Environment',
  command: 'Command',
  script: 'Shell script',
  code: 'Python code',
  nodes: 'Nodes',
  ntasks_per_node: 'Tasks per node',
  array: 'Array',
  constraint: 'Constraint',
  gres: 'Extra GRES',
  tmp: 'Local disk (--tmp)',
  account: 'Account',
  qos: 'QOS',
  workdir: 'Working directory'
};

interface IViewProps {
  form: IJobForm;
  result: ISpecResult;
  errors: { [field: string]: string };
  banner: IBanner | null;
  cluster: TritonAPI.IClusterSummary | null;
  clusterError: string | null;
  script: string;
  previewState: PreviewState;
  previewMessage: string;
  submitting: boolean;
  showAdvanced: boolean;
  onAdvanced(open: boolean): void;
  onChange(changes: Partial<IJobForm>): void;
  /** Distributed data-parallel: one task per GPU (JobSpec.ddp). */
  ddp: boolean;
  onDdp(ddp: boolean): void;
  onCopy(): void;
  /** Long jobs: warn before the time limit, requeue (JobSpec.checkpoint). */
  checkpoint: ICheckpointForm;
  onCheckpoint(changes: Partial<ICheckpointForm>): void;
}

const RUN_KINDS: { kind: RunKind; label: string }[] = [
  { kind: 'command', label: 'Command' },
  { kind: 'script', label: 'Shell script' },
  { kind: 'code', label: 'Python code' }
];

function JobFormView(props: IViewProps): JSX.Element {
  const { form, cluster, onChange } = props;
  // Local mistakes (a bad env line) first, then the server's messages.
  const errors = { ...props.errors, ...props.result.errors };
  const field = (name: string, label: string, input: React.ReactNode, hint?: React.ReactNode, wide = false) =>
    formField(errors, name, label, input, hint, wide);
  const text = (name: keyof IJobForm, placeholder = '', extra: React.InputHTMLAttributes<HTMLInputElement> = {}) =>
    formText(form, onChange, name, placeholder, extra);

  return (
    <div className="tml-JobForm-body">
      <div className="tml-JobForm-fields">
        <SubmitBanner banner={props.banner} />
        <div className="tml-FieldGrid">
          {field('name', 'Name', text('name', 'tritonml', { 'aria-label': 'Job name' }), undefined, true)}
          <ResourceFields
            form={form}
            errors={errors}
            cluster={cluster}
            clusterError={props.clusterError}
            onChange={onChange}
          />
          {field('modules', 'Modules', text('modules', 'e.g. scicomp-python-env'), 'space separated')}
          {field(
            'ddp',
            'Parallel',
            <label className="tml-DdpChoice">
              <input
                type="checkbox"
                name="ddp"
                checked={props.ddp}
                onChange={e => props.onDdp(e.currentTarget.checked)}
              />
              Distributed (DDP): one task per GPU
            </label>,
            props.ddp
              ? 'srun starts one task per GPU on each node (Nodes: under More options), with MASTER_ADDR, ' +
                  'MASTER_PORT, RANK, LOCAL_RANK and WORLD_SIZE set for torch.distributed'
              : undefined,
            true
          )}
          <CheckpointFields form={props.checkpoint} errors={errors} onChange={props.onCheckpoint} />
        </div>
        <div className={`tml-Field tml-Field--wide${errors.env ? ' tml-mod-invalid' : ''}`} data-field="env">
          <label className="tml-Field-label">Environment</label>
          <textarea
            className="tml-Input tml-Textarea tml-Textarea--small"
            name="env"
            rows={2}
            value={form.env}
            placeholder={'NAME=value, one per line'}
            spellCheck={false}
            onChange={e => onChange({ env: e.currentTarget.value })}
          />
          {errors.env && (
            <span className="tml-Field-error" role="alert">
              {errors.env}
            </span>
          )}
        </div>
        <details
          className="tml-JobForm-advanced"
          open={props.showAdvanced}
          onToggle={e => {
            const open = (e.currentTarget as HTMLDetailsElement).open;
            if (open !== props.showAdvanced) {
              props.onAdvanced(open);
            }
          }}
        >
          <summary>More options (nodes, array, account…)</summary>
          <div className="tml-FieldGrid">
            {field('nodes', 'Nodes', text('nodes', '1'))}
            {field('ntasks_per_node', 'Tasks per node', text('ntasks_per_node', '1'))}
            {field('array', 'Array', text('array', 'e.g. 0-9%2'))}
            {field('constraint', 'Constraint', text('constraint', 'e.g. ampere'))}
            {field('gres', 'Extra GRES', text('gres', 'e.g. min-vram:80g'))}
            {field('tmp', 'Local disk (--tmp)', text('tmp', 'e.g. 100G'))}
            {field('account', 'Account', text('account'))}
            {field('qos', 'QOS', text('qos'))}
            {field('workdir', 'Working directory', text('workdir', 'the job directory'), undefined, true)}
          </div>
        </details>
        <div className="tml-Field tml-Field--wide tml-RunField" data-field={form.run}>
          <div className="tml-RunKinds" role="radiogroup" aria-label="What to run">
            {RUN_KINDS.map(k => (
              <label key={k.kind} className={`tml-RunKind${form.run === k.kind ? ' tml-mod-active' : ''}`}>
                <input
                  type="radio"
                  name="run"
                  value={k.kind}
                  checked={form.run === k.kind}
                  onChange={() => onChange({ run: k.kind })}
                />
                {k.label}
              </label>
            ))}
          </div>
          {form.run === 'command' ? (
            <input
              className="tml-Input tml-Input--code"
              name="command"
              type="text"
              value={form.command}
              placeholder="python train.py --epochs 10"
              spellCheck={false}
              autoComplete="off"
              aria-label="Command"
              onChange={e => onChange({ command: e.currentTarget.value })}
            />
          ) : (
            <textarea
              className="tml-Input tml-Textarea"
              name={form.run}
              rows={7}
              value={form[form.run]}
              placeholder={
                form.run === 'code' ? 'import torch\nprint(torch.cuda.is_available())' : 'nvidia-smi\npython train.py'
              }
              spellCheck={false}
              aria-label={form.run === 'code' ? 'Python code' : 'Shell script'}
              onChange={e => onChange({ [form.run]: e.currentTarget.value })}
            />
          )}
          {(errors[form.run] || errors.spec) && (
            <span className="tml-Field-error" role="alert">
              {errors[form.run] ?? errors.spec}
            </span>
          )}
        </div>
      </div>
      <div className="tml-JobForm-preview">
        <div className="tml-JobForm-previewHead">
          <span className="tml-Field-label">Batch script</span>
          {props.previewState === 'loading' && <span className="tml-muted tml-small">updating…</span>}
          <ToolbarButtonComponent
            icon={copyIcon}
            tooltip="Copy the batch script"
            enabled={!!props.script}
            onClick={props.onCopy}
          />
        </div>
        {props.previewState !== 'ok' && props.previewMessage && (
          <p className="tml-muted tml-small tml-JobForm-previewNote">{props.previewMessage}</p>
        )}
        <pre
          className={`tml-JobScript tml-JobForm-script${props.previewState === 'ok' || props.previewState === 'loading' ? '' : ' tml-mod-stale'}`}
          aria-label="Rendered batch script"
        >
          {props.script || ' '}
        </pre>
        {props.submitting && <p className="tml-muted tml-small">Submitting…</p>}
      </div>
    </div>
  );
}
