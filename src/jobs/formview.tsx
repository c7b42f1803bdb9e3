/**
 * The "New job" dialog's view: the spec fields, the run kind, long-run options and the live batch
 * script preview, drawn from the state `JobForm` (dialog.tsx) owns.
 */
import { copyIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { TritonAPI } from '../api';
import { ProfileField, ProfileMode } from './profilefield';
import { formField, formText, ResourceFields } from './resources';
import { IJobForm, ISpecResult, RunKind } from './spec';
import { CheckpointFields, IBanner, ICheckpointForm, MoreOptions, SubmitBanner } from './submitform';

export type PreviewState = 'idle' | 'loading' | 'ok' | 'invalid';

/** Form keys whose errors the server reports under another name. */
export const FIELD_OF: { [key: string]: string } = {
  gpuCount: 'gpus',
  gpuType: 'gpus',
  cpus: 'cpus_per_task'
};

/** The spec fields the form shows (a server message for another field goes in the banner). */
export const FIELD_LABELS: { [field: string]: string } = {
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
  workdir: 'Working directory',
  profile: 'Profile'
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
  /** --profile (JobSpec.profile). */
  profile: ProfileMode;
  onProfile(mode: ProfileMode): void;
}

const RUN_KINDS: { kind: RunKind; label: string }[] = [
  { kind: 'command', label: 'Command' },
  { kind: 'script', label: 'Shell script' },
  { kind: 'code', label: 'Python code' }
];

export function JobFormView(props: IViewProps): JSX.Element {
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
          <ProfileField mode={props.profile} errors={errors} onChange={props.onProfile} />
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
        <MoreOptions
          open={props.showAdvanced}
          onOpen={props.onAdvanced}
          summary="More options (nodes, array, account…)"
        >
          {field('nodes', 'Nodes', text('nodes', '1'))}
          {field('ntasks_per_node', 'Tasks per node', text('ntasks_per_node', '1'))}
          {field('array', 'Array', text('array', 'e.g. 0-9%2'))}
          {field('constraint', 'Constraint', text('constraint', 'e.g. ampere'))}
          {field('gres', 'Extra GRES', text('gres', 'e.g. min-vram:80g'))}
          {field('tmp', 'Local disk (--tmp)', text('tmp', 'e.g. 100G'))}
          {field('account', 'Account', text('account'))}
          {field('qos', 'QOS', text('qos'))}
          {field('workdir', 'Working directory', text('workdir', 'the job directory'), undefined, true)}
        </MoreOptions>
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
