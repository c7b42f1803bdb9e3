import { LabIcon } from '@jupyterlab/ui-components';

// A stack of queued jobs with a play mark on the top one (a batch queue); jp-icon3 follows the theme.
const jobsSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 3h18a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1zm1 2v4h16V5zm3.5.6L11 7l-3.5 1.4z"/>
    <rect x="2" y="13" width="20" height="3" rx="1"/>
    <rect x="2" y="18" width="20" height="3" rx="1"/>
  </g>
</svg>`;

export const jobsIcon = new LabIcon({ name: 'tritonml-lab:jobs', svgstr: jobsSvg });
