/**
 * The extension's plugins, one per feature (src/<feature>/plugin.ts). Features depend downward only
 * (events → jobs → metrics, notebook runs, sweeps → widget); a feature that adds to another's view
 * does it through a token the other provides (IJobDetailSections), never by being imported by it.
 */
import { advicePlugin } from './advice/plugin';
import { catalogPlugin } from './catalog/plugin';
import { checkpointPlugin } from './checkpoint/plugin';
import { clusterPlugin } from './cluster/plugin';
import { eventsPlugin } from './events/plugin';
import { healthPlugin } from './health/plugin';
import { jobSectionsPlugin, jobsPlugin } from './jobs/plugin';
import { metricsPlugin } from './metrics/plugin';
import { notebookJobsPlugin } from './notebookjobs/plugin';
import { profilePlugin } from './profile/plugin';
import { sweepsPlugin } from './sweeps/plugin';
import { trackingPlugin } from './tracking/plugin';
import { jobWidgetPlugin } from './widget/plugin';

export default [
  clusterPlugin,
  catalogPlugin,
  eventsPlugin,
  jobSectionsPlugin,
  jobsPlugin,
  metricsPlugin,
  advicePlugin,
  checkpointPlugin,
  profilePlugin,
  jobWidgetPlugin,
  notebookJobsPlugin,
  sweepsPlugin,
  trackingPlugin,
  healthPlugin
];
