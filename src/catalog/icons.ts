import { LabIcon } from '@jupyterlab/ui-components';

// A stack of disks (a database): shared datasets and models. jp-icon3 follows the light/dark theme.
const catalogSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2C7.03 2 3 3.57 3 5.5v13C3 20.43 7.03 22 12 22s9-1.57 9-3.5v-13C21 3.57 16.97 2 12 2zm0 2c4.14 0 7 1.22 7 1.5S16.14 7 12 7 5 5.78 5 5.5 7.86 4 12 4zM5 8.1C6.6 8.68 9.2 9 12 9s5.4-.32 7-.9v3.4c0 .28-2.86 1.5-7 1.5s-7-1.22-7-1.5zm0 6C6.6 14.68 9.2 15 12 15s5.4-.32 7-.9v4.4c0 .28-2.86 1.5-7 1.5s-7-1.22-7-1.5z"/>
  </g>
</svg>`;

export const catalogIcon = new LabIcon({ name: 'tritonml-lab:catalog', svgstr: catalogSvg });
