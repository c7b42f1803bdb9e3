/**
 * The "Run on GPU" dialog's view: presets, resources, kernel, output folder, long-run options and
 * the parameters form, drawn from the state `RunNotebookForm` (dialog.tsx) owns.
 */
import * as React from 'react';

import { TritonAPI } from '../api';
import { ProfileField, ProfileMode } from '../jobs/profilefield';
import { formField, formText, ResourceFields } from '../jobs/resources';
import { IJobForm } from '../jobs/spec';
import { CheckpointFields, IBanner, ICheckpointForm, MoreOptions, SubmitBanner } from '../jobs/submitform';
import { IParamField } from './params';
import { describeResources, IPreset, PRESETS } from './presets';

/** A kernelspec the run may use. */
export interface IKernelChoice {
  name: string;
  display_name: string;
}

export interface IViewProps {
  path: string;
  form: IJobForm;
  choice: string;
  remembered: IJobForm | null;
  errors: { [field: string]: string };
  banner: IBanner | null;
  cluster: TritonAPI.IClusterSummary | null;
  clusterError: string | null;
  params: TritonAPI.INotebookParameters | null;
  paramsError: string | null;
  fields: IParamField[];
  paramErrors: { [name: string]: string };
  paramNotes: { [name: string]: string };
  kernels: IKernelChoice[];
  kernel: string;
  outputDir: string;
  submitting: boolean;
  showMore: boolean;
  onPreset(choice: string): void;
  onChange(changes: Partial<IJobForm>): void;
  onParam(name: string, text: string): void;
  onKernel(kernel: string): void;
  onOutputDir(value: string): void;
  onMore(open: boolean): void;
  /** Long runs: warn before the time limit (the notebook is saved), requeue (it runs again from the top). */
  checkpoint: ICheckpointForm;
  onCheckpoint(changes: Partial<ICheckpointForm>): void;
  /** --profile (JobSpec.profile): profile the notebook's training steps. */
  profile: ProfileMode;
  onProfile(mode: ProfileMode): void;
}

function PresetChip(props: {
  id: string;
  label: string;
  title: string;
  checked: boolean;
  onPick(id: string): void;
}): JSX.Element {
  return (
    <button
      type="button"
      role="radio"
      aria-checked={props.checked}
      className={`tml-Preset${props.checked ? ' tml-mod-active' : ''}`}
      data-preset={props.id}
      title={props.title}
      onClick={() => props.onPick(props.id)}
    >
      {props.label}
    </button>
  );
}

function presetTitle(preset: IPreset): string {
  return `${preset.gpus ? `${preset.gpus} GPU${preset.gpus > 1 ? 's' : ''}` : 'No GPU'}, ${preset.cpus} CPUs, time limit ${preset.time}`;
}

export function RunNotebookView(props: IViewProps): JSX.Element {
  const { form, errors, params } = props;
  const stem =
    props.path
      .split('/')
      .pop()
      ?.replace(/\.ipynb$/, '') ?? 'notebook';
  const folder = props.outputDir.trim() || props.path.split('/').slice(0, -1).join('/');
  const output = `${folder ? folder + '/' : ''}${stem}.<job id>.ipynb`;
  const own = params?.kernel ?? '';
  const kernelNames = new Set(props.kernels.map(k => k.name));
  const kernelOptions = [...props.kernels];
  if (own && !kernelNames.has(own)) {
    kernelOptions.unshift({ name: own, display_name: `${params?.kernel_display_name ?? own} (not installed)` });
  }
  const chosen = props.kernel || own;
  let kernelHint: React.ReactNode = null;
  let kernelProblem: string | null = null;
  if (!params) {
    kernelHint = props.paramsError ? null : 'checking…';
  } else if (chosen === own) {
    if (params.kernel_available) {
      kernelHint = (
        <span className="tml-KernelCheck tml-KernelCheck--ok">✓ the notebook’s kernel; installed where jobs run</span>
      );
    } else {
      kernelProblem = params.kernel_error ?? 'This kernel is not installed where jobs run.';
    }
  } else {
    kernelHint = 'another kernel than the notebook’s; checked when you submit';
  }
  const kernelError = errors.kernel ?? kernelProblem;

  return (
    <div className="tml-RunNotebook-body">
      <SubmitBanner banner={props.banner} />
      <p className="tml-RunNotebook-intro tml-muted">
        Runs <code>{props.path}</code> from top to bottom in a batch job, saving it after every cell as{' '}
        <code className="tml-RunNotebook-output">{output}</code>. This notebook stays as it is.
      </p>
      <div className="tml-Field tml-Field--wide" data-field="preset">
        <span className="tml-Field-label" id="tml-presets-label">
          Resources
        </span>
        <div className="tml-Presets" role="radiogroup" aria-labelledby="tml-presets-label">
          {props.remembered && (
            <PresetChip
              id="last"
              label="Last used"
              title={describeResources(props.remembered)}
              checked={props.choice === 'last'}
              onPick={props.onPreset}
            />
          )}
          {PRESETS.map(p => (
            <PresetChip
              key={p.id}
              id={p.id}
              label={p.label}
              title={presetTitle(p)}
              checked={props.choice === p.id}
              onPick={props.onPreset}
            />
          ))}
          {props.choice === 'custom' && (
            <span className="tml-Preset tml-Preset--custom tml-mod-active" aria-hidden="true">
              Custom
            </span>
          )}
        </div>
        <span className="tml-Field-hint">{describeResources(form)}</span>
      </div>
      <div className="tml-FieldGrid">
        <ResourceFields
          form={form}
          errors={errors}
          cluster={props.cluster}
          clusterError={props.clusterError}
          onChange={props.onChange}
        />
        <CheckpointFields form={props.checkpoint} errors={errors} onChange={props.onCheckpoint} />
        <ProfileField mode={props.profile} errors={errors} onChange={props.onProfile} />
        {formField(
          { kernel: kernelError ?? '' },
          'kernel',
          'Kernel',
          <select
            className="tml-Select"
            name="kernel"
            value={chosen}
            disabled={!params && !props.paramsError}
            onChange={e => props.onKernel(e.currentTarget.value)}
          >
            {kernelOptions.length === 0 && <option value="">{own || 'no kernel'}</option>}
            {kernelOptions.map(k => (
              <option key={k.name} value={k.name}>
                {k.display_name}
                {k.name !== k.display_name ? ` (${k.name})` : ''}
              </option>
            ))}
          </select>,
          kernelHint,
          true
        )}
      </div>
      <MoreOptions open={props.showMore} onOpen={props.onMore} summary="More options (modules, output folder)">
        {formField(
          errors,
          'modules',
          'Modules',
          formText(form, props.onChange, 'modules', 'e.g. scicomp-python-env'),
          'space separated'
        )}
        {formField(
          errors,
          'output_dir',
          'Output folder',
          <input
            className="tml-Input"
            name="output_dir"
            type="text"
            value={props.outputDir}
            placeholder="next to the notebook"
            spellCheck={false}
            autoComplete="off"
            onChange={e => props.onOutputDir(e.currentTarget.value)}
          />,
          'relative to the Jupyter root'
        )}
      </MoreOptions>
      <ParametersSection {...props} />
      {props.submitting && <p className="tml-muted tml-small">Submitting…</p>}
    </div>
  );
}

function ParametersSection(props: IViewProps): JSX.Element | null {
  const { params } = props;
  if (props.paramsError) {
    return (
      <div className="tml-Banner tml-Banner--error" role="alert">
        <strong>Could not read the notebook</strong>
        <p>{props.paramsError}</p>
      </div>
    );
  }
  if (!params) {
    return <p className="tml-muted tml-small tml-RunNotebook-loading">Reading the notebook’s parameters…</p>;
  }
  if (!params.has_parameters_cell) {
    return (
      <p className="tml-muted tml-small tml-RunNotebook-noParams">
        No cell tagged <code>parameters</code>: the notebook runs as it is. (Tag a cell of assignments{' '}
        <code>parameters</code> to set its values here.)
      </p>
    );
  }
  return (
    <fieldset
      className={`tml-RunNotebook-params${props.errors.parameters ? ' tml-mod-invalid' : ''}`}
      data-field="parameters"
    >
      <legend className="tml-Field-label">
        Parameters <span className="tml-muted">(cell {(params.cell_index ?? 0) + 1}; values as JSON)</span>
      </legend>
      {params.parameters.length === 0 && (
        <p className="tml-muted tml-small">The parameters cell assigns no variables.</p>
      )}
      {props.fields.map(f => {
        const error = props.paramErrors[f.name];
        const note = props.paramNotes[f.name];
        const changed = f.text !== f.initial;
        return (
          <div
            key={f.name}
            className={`tml-Param${error ? ' tml-mod-invalid' : ''}${changed ? ' tml-mod-changed' : ''}`}
            data-param={f.name}
          >
            <label className="tml-Param-name" htmlFor={`tml-param-${f.name}`}>
              {f.name}
              {f.type && <span className="tml-Param-type">{f.type}</span>}
            </label>
            <input
              id={`tml-param-${f.name}`}
              className="tml-Input tml-Input--code tml-Param-input"
              name={`param-${f.name}`}
              type="text"
              value={f.text}
              placeholder={f.literal ? '' : `${f.source} (keep)`}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={!!error}
              onChange={e => props.onParam(f.name, e.currentTarget.value)}
            />
            {error ? (
              <span className="tml-Field-error" role="alert">
                {error}
              </span>
            ) : (
              <span className="tml-Field-hint">
                {note ?? [f.help, changed && f.literal ? `default ${f.source}` : null].filter(Boolean).join(' · ')}
              </span>
            )}
          </div>
        );
      })}
      {props.errors.parameters && (
        <span className="tml-Field-error" role="alert">
          {props.errors.parameters}
        </span>
      )}
    </fieldset>
  );
}
