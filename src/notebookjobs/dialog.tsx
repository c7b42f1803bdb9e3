/**
 * The "Run on GPU" dialog: resources (presets, the user's last choice, and the same cluster-aware
 * fields as the New job dialog), the kernel (the notebook's own, with the server's check that it
 * exists where jobs run), and the parameters form when the notebook has a cell tagged `parameters`.
 *
 * Submitting keeps the dialog open until the server accepted the run: per-field messages of a 400
 * appear next to the fields, a missing kernel next to the kernel, Slurm's own message of a 422 as a
 * banner above them.
 */
import * as React from 'react';

import { APIError, NotebookJobsClient, TritonAPI, TritonClient } from '../api';
import { ProfileMode } from '../jobs/profilefield';
import { EMPTY_FORM, IJobForm } from '../jobs/spec';
import {
  CHECKPOINT_FIELDS,
  checkpointFromForm,
  EMPTY_CHECKPOINT,
  ICheckpointForm,
  SubmitDialog,
  SubmitForm
} from '../jobs/submitform';
import { IParamField, paramFields, parametersFromFields } from './params';
import {
  applyPreset,
  DEFAULT_PRESET,
  matchPreset,
  PRESETS,
  rememberedOf,
  RememberedForm,
  requestFromForm
} from './presets';
import { IKernelChoice, RunNotebookView } from './view';

export type { IKernelChoice };

/** What the dialog resolves with: the run the server accepted and the resources to remember. */
export interface IRunResult {
  job: TritonAPI.INotebookJobCreated;
  remembered: RememberedForm;
}

/** Resource keys whose server errors go next to a field of the form. */
const RESOURCE_FIELDS = new Set(['partition', 'gpus', 'cpus_per_task', 'mem', 'time', 'modules']);

export class RunNotebookForm extends SubmitForm<TritonAPI.INotebookJobCreated> {
  constructor(options: RunNotebookForm.IOptions) {
    super();
    this.addClass('tml-JobForm');
    this.addClass('tml-RunNotebookForm');
    this._path = options.path;
    this._kernels = options.kernels ?? [];
    this._remembered = options.remembered ? { ...EMPTY_FORM, ...options.remembered } : null;
    this._form = this._remembered ? { ...this._remembered } : applyPreset({ ...EMPTY_FORM }, DEFAULT_PRESET, null);
    this._choice = this._remembered ? 'last' : DEFAULT_PRESET.id;
    const cluster = options.cluster ?? TritonClient.cluster();
    cluster
      .then(answer => {
        this._cluster = answer;
        this._clusterError = null;
        // The preset's partition, now that the partitions are known (unless the person chose one).
        const preset = PRESETS.find(p => p.id === this._choice);
        if (preset && !this._touched.has('partition')) {
          this._form = applyPreset(this._form, preset, answer);
        }
      })
      .catch(error => {
        this._clusterError = (error as Error).message;
      })
      .finally(() => this.update());
    const parameters = options.parameters ?? NotebookJobsClient.parameters(this._path);
    parameters
      .then(answer => {
        this._params = answer;
        this._fields = paramFields(answer.parameters);
        if (!this._kernel) {
          this._kernel = answer.kernel ?? '';
        }
      })
      .catch(error => {
        this._paramsError = (error as Error).message;
      })
      .finally(() => this.update());
  }

  get path(): string {
    return this._path;
  }

  /** The form's current resource fields. */
  get form(): IJobForm {
    return this._form;
  }

  getValue(): IRunResult | null {
    return this.submitted ? { job: this.submitted, remembered: rememberedOf(this._form) } : null;
  }

  /** Send the run; resolves with true when the server accepted it. */
  async submit(): Promise<boolean> {
    if (this.submitting) {
      return false;
    }
    const params = parametersFromFields(this._fields);
    const kernel = this._kernel && this._kernel !== (this._params?.kernel ?? '') ? this._kernel : undefined;
    const { request, errors } = requestFromForm(this._form, this._path, {
      kernel,
      parameters: params.parameters,
      outputDir: this._outputDir
    });
    const checkpoint = checkpointFromForm(this._checkpoint, errors);
    if (checkpoint) {
      request.checkpoint = checkpoint;
    }
    if (this._profile) {
      request.profile = this._profile;
    }
    this._paramErrors = { ...params.errors };
    if (Object.keys(errors).length || Object.keys(params.errors).length) {
      this._errors = { ...errors };
      this._banner = null;
      this.update();
      return false;
    }
    return this.send(() => NotebookJobsClient.submit(request));
  }

  // The chosen preset has the keyboard at once (Escape closes, Enter submits).
  protected readonly focusSelector = '.tml-Preset[aria-checked="true"], .tml-Preset';
  protected readonly shownFields: ReadonlySet<string> = new Set([
    ...RESOURCE_FIELDS,
    'kernel',
    'output_dir',
    'parameters',
    ...CHECKPOINT_FIELDS
  ]);

  render(): JSX.Element {
    return (
      <RunNotebookView
        path={this._path}
        form={this._form}
        choice={this._currentChoice()}
        remembered={this._remembered}
        errors={this._errors}
        banner={this._banner}
        cluster={this._cluster}
        clusterError={this._clusterError}
        params={this._params}
        paramsError={this._paramsError}
        fields={this._fields}
        paramErrors={{ ...this._paramErrors, ...this._liveParamErrors() }}
        paramNotes={parametersFromFields(this._fields).notes}
        kernels={this._kernels}
        kernel={this._kernel}
        outputDir={this._outputDir}
        submitting={this.submitting}
        showMore={this._showMore}
        onPreset={choice => this._pick(choice)}
        onChange={changes => this._change(changes)}
        onParam={(name, text) => {
          this._fields = this._fields.map(f => (f.name === name ? { ...f, text } : f));
          delete this._paramErrors[name];
          delete this._errors.parameters;
          this.update();
        }}
        onKernel={kernel => {
          this._kernel = kernel;
          delete this._errors.kernel;
          this.update();
        }}
        onOutputDir={value => {
          this._outputDir = value;
          delete this._errors.output_dir;
          this.update();
        }}
        onMore={open => {
          this._showMore = open;
          this.update();
        }}
        profile={this._profile}
        onProfile={mode => {
          this._profile = mode;
          delete this._errors.profile;
          this.update();
        }}
        checkpoint={this._checkpoint}
        onCheckpoint={changes => {
          this._checkpoint = { ...this._checkpoint, ...changes };
          for (const field of CHECKPOINT_FIELDS) {
            delete this._errors[field];
          }
          this.update();
        }}
      />
    );
  }

  /** Which chip is lit: the preset the fields still match, "last" while unchanged, else custom. */
  private _currentChoice(): string {
    if (this._choice === 'last' && this._remembered && sameResources(this._form, this._remembered)) {
      return 'last';
    }
    return matchPreset(this._form)?.id ?? 'custom';
  }

  private _pick(choice: string): void {
    if (choice === 'last' && this._remembered) {
      this._form = { ...this._form, ...rememberedOf(this._remembered) };
    } else {
      const preset = PRESETS.find(p => p.id === choice);
      if (!preset) {
        return;
      }
      this._form = applyPreset(this._form, preset, this._cluster);
    }
    this._choice = choice;
    this._touched.delete('partition');
    for (const key of ['partition', 'gpus', 'cpus_per_task', 'mem', 'time']) {
      delete this._errors[key];
    }
    this.update();
  }

  private _change(changes: Partial<IJobForm>): void {
    this._form = { ...this._form, ...changes };
    for (const key of Object.keys(changes)) {
      this._touched.add(key);
      const field = key === 'gpuCount' || key === 'gpuType' ? 'gpus' : key === 'cpus' ? 'cpus_per_task' : key;
      delete this._errors[field];
    }
    this._choice = 'custom';
    this.update();
  }

  /** Values that cannot be read, shown as one types (the message of a field being typed). */
  private _liveParamErrors(): { [name: string]: string } {
    return parametersFromFields(this._fields).errors;
  }

  protected showError(error: unknown): void {
    if (error instanceof APIError && error.status === 400 && error.body?.reason === 'KernelNotFound') {
      this._errors = { kernel: error.message };
      this._banner = { kind: 'invalid', title: 'The kernel cannot run where jobs run', message: '' };
      return;
    }
    if (error instanceof APIError && (error.status === 400 || error.status === 404) && !error.body?.errors?.length) {
      this._banner = { kind: 'invalid', title: 'Cannot run this notebook', message: error.message };
      return;
    }
    super.showError(error);
    if (this._errors.output_dir || this._errors.modules) {
      this._showMore = true;
    }
  }

  private _path: string;
  private _kernels: IKernelChoice[];
  private _remembered: IJobForm | null;
  private _form: IJobForm;
  private _choice: string;
  private _touched = new Set<string>();
  private _paramErrors: { [name: string]: string } = {};
  private _cluster: TritonAPI.IClusterSummary | null = null;
  private _clusterError: string | null = null;
  private _params: TritonAPI.INotebookParameters | null = null;
  private _paramsError: string | null = null;
  private _fields: IParamField[] = [];
  private _kernel = '';
  private _outputDir = '';
  private _showMore = false;
  private _checkpoint: ICheckpointForm = { ...EMPTY_CHECKPOINT };
  private _profile: ProfileMode = '';
}

export namespace RunNotebookForm {
  export interface IOptions {
    /** The notebook, relative to the server root. */
    path: string;
    /** The user's last choice of resources, if any. */
    remembered?: Partial<IJobForm> | null;
    /** Kernelspecs installed (the server checks the chosen one again). */
    kernels?: IKernelChoice[];
    /** For tests: the cluster summary and the notebook's parameters (default: asked from the server). */
    cluster?: Promise<TritonAPI.IClusterSummary>;
    parameters?: Promise<TritonAPI.INotebookParameters>;
  }
}

function sameResources(a: IJobForm, b: IJobForm): boolean {
  return JSON.stringify(rememberedOf(a)) === JSON.stringify(rememberedOf(b));
}

/** The Run on GPU dialog: Run (and Enter) waits for the server; see SubmitDialog. */
export class RunNotebookDialog extends SubmitDialog<IRunResult> {
  constructor(form: RunNotebookForm) {
    super(form, {
      title: `Run ${form.path.split('/').pop()} as a Slurm job`,
      accept: 'Run on GPU',
      className: 'tml-RunNotebookDialog'
    });
  }
}
