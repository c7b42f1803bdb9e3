/**
 * What "Open TensorBoard" asks the server for, from a command's arguments or what a user typed, and
 * how its tab is named. No JupyterLab here: tested with jest.
 */
import type { ITensorBoard, ITensorBoardOpen } from '../api/tracking';

const JOB_ID = /^\d{1,12}(_\d{1,7})?$/;
const SWEEP = /^sweep\s+(\d{1,12})$/i;

/** From command arguments ({job} | {sweep} | {path}); null when none (or more than one) is given. */
export function targetOf(args: { [key: string]: unknown }): ITensorBoardOpen | null {
  const given = (['job', 'sweep', 'path'] as const).filter(key => typeof args[key] === 'string' && args[key] !== '');
  if (given.length !== 1) {
    return null;
  }
  const key = given[0];
  return { [key]: (args[key] as string).trim() } as ITensorBoardOpen;
}

/** From what a user typed: a job id ("123", "123_4"), "sweep 123", or a folder (anything else). */
export function parseTarget(text: string): ITensorBoardOpen | null {
  const value = text.trim();
  if (!value) {
    return null;
  }
  const sweep = SWEEP.exec(value);
  if (sweep) {
    return { sweep: sweep[1] };
  }
  if (JOB_ID.test(value)) {
    return { job: value };
  }
  return { path: value };
}

/** The tab's title: "TensorBoard · sweep 123". */
export function tabTitle(board: Pick<ITensorBoard, 'label'>): string {
  return `TensorBoard · ${board.label}`;
}

/** The tab's widget id: one tab per TensorBoard (the same folders give the same id). */
export function widgetId(board: Pick<ITensorBoard, 'id'>): string {
  return `tritonml-tensorboard-${board.id}`;
}

/** What to show while it starts. */
export function describeTarget(target: ITensorBoardOpen): string {
  if (target.sweep) {
    return `sweep ${target.sweep}`;
  }
  if (target.job) {
    return `job ${target.job}`;
  }
  return `folder ${target.path}`;
}
