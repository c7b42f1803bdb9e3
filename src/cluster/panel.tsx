/** The "Slurm cluster" sidebar: partitions, their limits and GPUs free now. */
import { refreshIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { TritonAPI } from '../api';
import { VisibleOnlySidebar } from '../sidebar';
import { gpuIcon } from '../icons';
import { formatGpus, formatTimeLimit, sortPartitions } from './format';
import { ClusterModel } from './model';

export class ClusterPanel extends VisibleOnlySidebar {
  constructor(readonly model: ClusterModel) {
    super();
    this.id = 'tritonml-cluster';
    this.addClass('tml-ClusterPanel');
    this.title.icon = gpuIcon;
    this.title.caption = 'Slurm cluster (tritonml-lab)';
    model.changed.connect(() => this.update(), this);
    model.active = false; // until the sidebar is shown: a closed sidebar costs the scheduler nothing
  }

  protected get activatable(): ClusterModel {
    return this.model;
  }

  render(): JSX.Element {
    return <ClusterView model={this.model} />;
  }
}

function ClusterView({ model }: { model: ClusterModel }): JSX.Element {
  const summary = model.summary;
  const error = model.error;
  return (
    <div className="tml-ClusterPanel-body">
      <div className="tml-PanelHeader">
        <h2
          className="tml-PanelHeader-title"
          title={summary?.slurm_version ? `Slurm ${summary.slurm_version}` : undefined}
        >
          Slurm cluster{summary?.cluster ? `: ${summary.cluster}` : ''}
        </h2>
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Refresh now"
          onClick={() => void model.refresh()}
          enabled={!model.loading}
        />
      </div>
      {error && (
        <div className="tml-Banner tml-Banner--error" role="alert">
          <strong>{error.schedulerUnavailable ? 'Scheduler unavailable' : 'Could not load the cluster'}</strong>
          <p>{error.message}</p>
          {summary && <p className="tml-muted">Showing the last known state.</p>}
        </div>
      )}
      {!summary && !error && <p className="tml-muted">Loading the cluster…</p>}
      {summary && (
        <>
          <p className="tml-ClusterPanel-gpus">
            <strong>{summary.gpus_free}</strong> of {summary.gpus_total} GPUs free now
            {summary.gpus.length > 0 && <span className="tml-muted"> ({formatGpus(summary.gpus)})</span>}
          </p>
          {summary.slurm_version && <p className="tml-muted tml-ClusterPanel-version">Slurm {summary.slurm_version}</p>}
          <table className="tml-Table tml-PartitionTable">
            <thead>
              <tr>
                <th>Partition · time limit</th>
                <th title="free / total">GPUs free</th>
              </tr>
            </thead>
            <tbody>
              {sortPartitions(summary.partitions).map(p => (
                <PartitionRow key={p.name} partition={p} />
              ))}
            </tbody>
          </table>
          {model.updated && <p className="tml-muted tml-small">Updated {model.updated.toLocaleTimeString()}</p>}
        </>
      )}
    </div>
  );
}

function PartitionRow({ partition: p }: { partition: TritonAPI.IPartition }): JSX.Element {
  const gpus = p.gpus.filter(g => g.total > 0);
  return (
    <tr className="tml-PartitionRow" data-partition={p.name}>
      <td>
        <span className="tml-PartitionName">{p.name}</span>
        {p.default && <span className="tml-Badge">default</span>}
        {p.state !== 'UP' && <span className="tml-Badge tml-Badge--warn">{p.state.toLowerCase()}</span>}
        <div className="tml-muted tml-small" title={p.nodes.join(', ')}>
          {formatTimeLimit(p.time_limit_minutes)} · {p.node_count} node{p.node_count === 1 ? '' : 's'}
        </div>
      </td>
      <td>
        {gpus.length > 0 ? (
          gpus.map(g => (
            <span
              key={g.type ?? 'gpu'}
              className="tml-Gpu"
              title={`${g.free} of ${g.total} ${g.type ?? ''} GPUs free now`}
            >
              {g.type ?? 'gpu'} <strong>{g.free}</strong>/{g.total}
            </span>
          ))
        ) : (
          <span className="tml-muted">CPU only</span>
        )}
      </td>
    </tr>
  );
}
