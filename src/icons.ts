import { LabIcon } from '@jupyterlab/ui-components';

// A GPU card: a board with a fan and connector pins; jp-icon3 follows the light/dark theme.
const gpuSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M2 6h18a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-1v2h-2v-2H9v2H7v-2H2zm2 2v8h16V8z"/>
    <circle cx="9" cy="12" r="2.5"/>
    <rect x="14" y="10" width="4" height="4" rx="0.5"/>
  </g>
</svg>`;

export const gpuIcon = new LabIcon({ name: 'tritonml-lab:gpu', svgstr: gpuSvg });
