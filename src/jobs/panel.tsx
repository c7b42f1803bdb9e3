/**
 * The "My Slurm jobs" sidebar: my jobs with state badges, filters and search, and the detail of one
 * job (script, live logs, efficiency, Cancel). Other features add to both views through
 * IJobDetailSections, so this module imports none of them.
 *
 * The detail opens inside the sidebar (Back button or Escape returns to the list) rather than in a
 * main-area tab: people watch a job next to the notebook it came from, so the notebook stays in
 * view, and job details do not pile up among their documents. Logs wrap to the sidebar's width,
 * and the sidebar can be widened by dragging when a log is wide.
 */
import { addIcon, ReactWidget, refreshIcon, searchIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { TritonAPI } from '../api';
import { IJobsActions } from './actions';
import { metaParts, pendingText, StateBadge, useTicker } from './components';
import { JobDetailView } from './detail';
import { filterJobs, isActive, JobFilter, stateFamily } from './format';
import { jobsIcon } from './icons';
import { JobsModel } from './model';
import { IJobDetailSection, IJobDetailSections } from './tokens';

export class JobsPanel extends ReactWidget {
  constructor(
    readonly model: JobsModel,
    private readonly _actions: IJobsActions,
    private readonly _sections: IJobDetailSections
  ) {
    super();
    this.id = 'tritonml-jobs';
    this.addClass('tml-JobsPanel');
    this.title.icon = jobsIcon;
    this.title.caption = 'My Slurm jobs (tritonml-lab)';
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Escape' && this._selected) {
        event.stopPropagation();
        this.showList();
      }
    });
    model.changed.connect(() => this.update(), this);
    _sections.changed.connect(() => this.update(), this);
  }

  /** The job whose detail is open, or null for the list. */
  get selected(): string | null {
    return this._selected;
  }

  showJob(id: string): void {
    if (this._selected === null) {
      this._listScroll = this.node.scrollTop;
    }
    this._selected = id;
    this.update();
  }

  showList(): void {
    this._selected = null;
    this.update();
  }

  render(): JSX.Element {
    const selected = this._selected;
    return selected ? (
      <JobDetailView
        key={selected}
        id={selected}
        model={this.model}
        actions={this._actions}
        sections={this._sections.sections}
        onBack={() => this.showList()}
        scroller={this.node}
      />
    ) : (
      <JobListView
        model={this.model}
        actions={this._actions}
        sections={this._sections.sections}
        filter={this._filter}
        query={this._query}
        visible={this._visible}
        onFilter={filter => {
          this._filter = filter;
          this.update();
        }}
        onQuery={query => {
          this._query = query;
          this.update();
        }}
        onOpen={id => this.showJob(id)}
        restoreScroll={() => {
          this.node.scrollTop = this._listScroll;
        }}
      />
    );
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._visible = true;
    this.update();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._visible = false;
    this.update();
  }

  private _selected: string | null = null;
  private _filter: JobFilter = 'all';
  private _query = '';
  private _visible = false;
  private _listScroll = 0;
}

interface IListProps {
  model: JobsModel;
  actions: IJobsActions;
  sections: readonly IJobDetailSection[];
  filter: JobFilter;
  query: string;
  visible: boolean;
  onFilter(filter: JobFilter): void;
  onQuery(query: string): void;
  onOpen(id: string): void;
  restoreScroll(): void;
}

const FILTERS: { key: JobFilter; label: string }[] = [
  { key: 'active', label: 'Active' },
  { key: 'finished', label: 'Finished' },
  { key: 'all', label: 'All' }
];

function JobListView(props: IListProps): JSX.Element {
  const { model, filter, query } = props;
  const all = [...model.jobs.values()];
  const anyRunning = all.some(job => stateFamily(job.state) === 'running');
  useTicker(props.visible && anyRunning);
  React.useLayoutEffect(() => props.restoreScroll(), []);
  const jobs = filterJobs(all, filter, query);
  const counts = {
    active: all.filter(job => isActive(job.state)).length,
    finished: all.filter(job => !isActive(job.state)).length,
    all: all.length
  };
  const now = Date.now() / 1000;
  const status = model.status;
  return (
    <div className="tml-JobsList-view">
      <div className="tml-PanelHeader">
        <h2 className="tml-PanelHeader-title">My jobs</h2>
        <div className="tml-JobsPanel-tools">
          <button className="tml-Button tml-Button--primary tml-JobsNew" onClick={() => props.actions.newJob()}>
            <addIcon.react tag="span" className="tml-Button-icon" />
            New job
          </button>
          <ToolbarButtonComponent
            icon={refreshIcon}
            tooltip="Ask the server for my jobs now"
            onClick={() => void model.refresh(true).catch(() => undefined)}
          />
        </div>
      </div>
      {model.connection === 'polling' && (
        <p className="tml-JobsConnection tml-muted tml-small" role="status">
          Live updates are reconnecting; checking every few seconds meanwhile.
        </p>
      )}
      {(status.error || model.error) && (
        <div className="tml-Banner tml-Banner--error" role="alert">
          <strong>{status.error ? 'Slurm did not answer' : 'The server did not answer'}</strong>
          <p>{status.error ?? model.error?.message}</p>
          {model.loaded && <p className="tml-muted">Showing the last known state.</p>}
        </div>
      )}
      <div className="tml-JobsFilters" role="tablist" aria-label="Which jobs">
        {FILTERS.map(f => (
          <button
            key={f.key}
            role="tab"
            aria-selected={filter === f.key}
            className={`tml-JobsFilter${filter === f.key ? ' tml-mod-active' : ''}`}
            data-filter={f.key}
            onClick={() => props.onFilter(f.key)}
          >
            {f.label}
            <span className="tml-JobsFilter-count">{counts[f.key]}</span>
          </button>
        ))}
      </div>
      <label className="tml-Search tml-JobsSearch">
        <searchIcon.react tag="span" className="tml-Search-icon" />
        <input
          className="tml-Search-input"
          type="search"
          placeholder="Search name, id, node…"
          aria-label="Search my jobs"
          value={query}
          onChange={event => props.onQuery(event.currentTarget.value)}
        />
      </label>
      {!model.loaded && !model.error && <p className="tml-muted tml-JobsEmpty">Loading my jobs…</p>}
      {model.loaded && jobs.length === 0 && (
        <p className="tml-muted tml-JobsEmpty">
          {all.length === 0
            ? 'No jobs of yours are queued, running or recently finished.'
            : query
              ? 'No job matches this search.'
              : filter === 'active'
                ? 'Nothing queued or running.'
                : 'No finished jobs.'}
        </p>
      )}
      <ul className="tml-JobsList" aria-label="My jobs">
        {jobs.map(job => (
          <JobRow key={job.id} job={job} now={now} sections={props.sections} onOpen={() => props.onOpen(job.id)} />
        ))}
      </ul>
      {props.sections.map(({ id, list: List }) => List && <List key={id} />)}
    </div>
  );
}

function JobRow(props: {
  job: TritonAPI.IJob;
  now: number;
  sections: readonly IJobDetailSection[];
  onOpen(): void;
}): JSX.Element {
  const { job, now, onOpen } = props;
  const pending = pendingText(job, now);
  const meta = metaParts(job, now);
  return (
    <li>
      <button
        className={`tml-JobRow tml-JobRow--${stateFamily(job.state)}`}
        data-job-id={job.id}
        data-state={job.state}
        onClick={onOpen}
        title={`Job ${job.id}: ${job.name} (${job.state})`}
      >
        <span className="tml-JobRow-top">
          <StateBadge state={job.state} />
          <span className="tml-JobRow-name">{job.name || '(no name)'}</span>
          <span className="tml-JobRow-id">{job.id}</span>
        </span>
        {meta.length > 0 && <span className="tml-JobRow-meta">{meta.join(' · ')}</span>}
        {pending && <span className="tml-JobRow-pending">{pending}</span>}
        {props.sections.map(({ id, row: Row }) => Row && <Row key={id} job={job} />)}
        {!isActive(job.state) && job.exit_code !== null && job.exit_code !== 0 && (
          <span className="tml-JobRow-exit">exit code {job.exit_code}</span>
        )}
      </button>
    </li>
  );
}
