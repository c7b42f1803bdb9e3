/**
 * The resource fields of a job form (partition, GPUs, CPUs, memory, time limit) with choices from
 * the cluster summary; shared by the New job dialog and the "Run on GPU" dialog.
 */
import * as React from 'react';

import { TritonAPI } from '../api';
import { formatTimeLimit, sortPartitions } from '../cluster/format';
import { gpuTotal, gpuTypesOf, IJobForm } from './spec';

/** One labelled field with its error (red) or hint underneath. */
export function formField(
  errors: { [field: string]: string },
  name: string,
  label: string,
  input: React.ReactNode,
  hint?: React.ReactNode,
  wide = false
): JSX.Element {
  return (
    <div
      className={`tml-Field${wide ? ' tml-Field--wide' : ''}${errors[name] ? ' tml-mod-invalid' : ''}`}
      data-field={name}
    >
      <label className="tml-Field-label">{label}</label>
      {input}
      {errors[name] ? (
        <span className="tml-Field-error" role="alert">
          {errors[name]}
        </span>
      ) : (
        hint && <span className="tml-Field-hint">{hint}</span>
      )}
    </div>
  );
}

/** A text input bound to one string field of the form. */
export function formText<F extends object>(
  form: F,
  onChange: (changes: Partial<F>) => void,
  name: keyof F & string,
  placeholder = '',
  extra: React.InputHTMLAttributes<HTMLInputElement> = {}
): JSX.Element {
  return (
    <input
      className="tml-Input"
      name={name}
      type="text"
      value={String(form[name] ?? '')}
      placeholder={placeholder}
      spellCheck={false}
      autoComplete="off"
      onChange={e => onChange({ [name]: e.currentTarget.value } as Partial<F>)}
      {...extra}
    />
  );
}

export interface IResourceFieldsProps {
  form: IJobForm;
  errors: { [field: string]: string };
  cluster: TritonAPI.IClusterSummary | null;
  clusterError: string | null;
  onChange(changes: Partial<IJobForm>): void;
}

/** Partition, GPUs (count and type), CPUs, memory and time limit, as a fragment of grid fields. */
export function ResourceFields(props: IResourceFieldsProps): JSX.Element {
  const { form, cluster, errors, onChange } = props;
  const partitions = cluster ? sortPartitions(cluster.partitions) : [];
  // The admin's defaults (c.TritonML.default_*) apply first, then Slurm's default partition.
  const defaults = cluster?.job_defaults;
  const defaultPartition = partitions.find(p => p.name === defaults?.partition) ?? partitions.find(p => p.default);
  const partition = partitions.find(p => p.name === (form.partition || defaultPartition?.name));
  const types = gpuTypesOf(partition);
  const maxGpus = gpuTotal(partition, form.gpuType);
  const cpuOnly = !!partition && gpuTotal(partition) === 0;
  const field = (name: string, label: string, input: React.ReactNode, hint?: React.ReactNode, wide = false) =>
    formField(errors, name, label, input, hint, wide);
  const text = (name: keyof IJobForm, placeholder = '') => formText(form, onChange, name, placeholder);
  return (
    <>
      {field(
        'partition',
        'Partition',
        cluster ? (
          <select
            className="tml-Select"
            name="partition"
            value={form.partition}
            onChange={e => {
              const next = partitions.find(p => p.name === (e.currentTarget.value || defaultPartition?.name));
              const nextTypes = gpuTypesOf(next);
              onChange({
                partition: e.currentTarget.value,
                gpuType: nextTypes.includes(form.gpuType) ? form.gpuType : ''
              });
            }}
          >
            <option value="">{defaultPartition ? `default (${defaultPartition.name})` : 'default'}</option>
            {partitions.map(p => (
              <option key={p.name} value={p.name}>
                {p.name}
                {gpuTypesOf(p).length ? ` · ${gpuTypesOf(p).join(', ')}` : ''}
              </option>
            ))}
          </select>
        ) : (
          text('partition', props.clusterError ? 'partition name' : 'loading…')
        ),
        partition
          ? `limit ${formatTimeLimit(partition.time_limit_minutes)}${cpuOnly ? ' · CPU only' : ''}`
          : props.clusterError && `Partitions unavailable: ${props.clusterError}`,
        true
      )}
      {field(
        'gpus',
        'GPUs',
        <span className="tml-Field-pair">
          <input
            className="tml-Input tml-Input--count"
            name="gpuCount"
            type="number"
            min={0}
            max={maxGpus || undefined}
            value={form.gpuCount}
            disabled={cpuOnly && form.gpuCount === '0'}
            aria-label="GPU count"
            onChange={e => onChange({ gpuCount: e.currentTarget.value })}
          />
          <select
            className="tml-Select"
            name="gpuType"
            value={form.gpuType}
            disabled={types.length === 0}
            aria-label="GPU type"
            onChange={e => onChange({ gpuType: e.currentTarget.value })}
          >
            <option value="">any type</option>
            {types.map(t => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </span>,
        cpuOnly ? 'no GPUs in this partition' : maxGpus ? `up to ${maxGpus} on this partition` : undefined,
        true
      )}
      {field(
        'cpus_per_task',
        'CPUs',
        <input
          className="tml-Input"
          name="cpus"
          type="number"
          min={1}
          value={form.cpus}
          placeholder={String(defaults?.cpus_per_task ?? 1)}
          onChange={e => onChange({ cpus: e.currentTarget.value })}
        />
      )}
      {field('mem', 'Memory', text('mem', defaults?.mem ?? 'e.g. 16G'))}
      {field('time', 'Time limit', text('time', defaults?.time ?? '01:00:00'), 'HH:MM:SS or D-HH:MM:SS')}
    </>
  );
}
