/**
 * What the jobs feature offers the features above it: the tab's jobs model, and places in the jobs
 * sidebar's views that they fill (the metrics charts, a notebook run's progress, the sweep link)
 * without the jobs feature knowing them.
 */
import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';
import type * as React from 'react';

import type { TritonAPI } from '../api';
import type { JobsModel } from './model';

/** The tab's one jobs model, for plugins that show jobs (notebook runs, sweeps, the widget). */
export const IJobsModel = new Token<JobsModel>(
  'tritonml-lab:IJobsModel',
  'My Slurm jobs, pushed by the server; one per tab.'
);

/** Where the built-in parts of a job's detail sit; a section's rank places it among them. */
export namespace JobDetailRank {
  /** The state, the Cancel button and the facts (partition, node, times). */
  export const facts = 100;
  /** The stdout/stderr tabs. */
  export const logs = 300;
  /** Slurm's efficiency figures, once the job ended. */
  export const efficiency = 500;
  /** The batch script. */
  export const script = 700;
}

export interface IJobSectionProps {
  job: TritonAPI.IJob;
  /** `GET jobs/{id}` (script, spec, efficiency), once it arrived. */
  detail: TritonAPI.IJobDetail | null;
}

/** A feature's contribution to the views of one job. Each part renders null when it has nothing to say. */
export interface IJobDetailSection {
  /** Unique; also the React key. */
  id: string;
  /** Its place in the detail (see JobDetailRank); equal ranks keep the order they were added in. */
  rank: number;
  /** Its section of the job's detail. */
  detail?: React.ComponentType<IJobSectionProps>;
  /** A line under the job's name in the jobs list. */
  row?: React.ComponentType<{ job: TritonAPI.IJob }>;
  /** A part under the jobs list itself (not of one job), e.g. my efficiency report. */
  list?: React.ComponentType;
}

/** The sections of the job views, filled by the features above jobs. */
export interface IJobDetailSections {
  /** Add a section; dispose the result to take it out again. */
  add(section: IJobDetailSection): IDisposable;
  /** By rank. */
  readonly sections: readonly IJobDetailSection[];
  /** Emits when a section was added or removed. */
  readonly changed: ISignal<IJobDetailSections, void>;
}

export const IJobDetailSections = new Token<IJobDetailSections>(
  'tritonml-lab:IJobDetailSections',
  "Sections of a job's detail (and lines of its row) in the jobs sidebar, added by other features."
);
