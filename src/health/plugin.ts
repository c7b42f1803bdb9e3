/**
 * Misconfiguration explains itself: when the server side could not start (say a bad
 * c.TritonML.catalog_roots), every tritonml sidebar shows why instead of staying empty. The sidebars
 * belong to other plugins: they are found in the shell by their id prefix, not imported.
 */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { addBanner } from './banner';
import { fetchProblem } from './status';

const SIDEBAR_ID_PREFIX = 'tritonml-';

export const healthPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:health',
  description: 'Shows on every tritonml sidebar why tritonml-lab could not start, when it could not.',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, labShell: ILabShell) => {
    void Promise.all([fetchProblem(), app.restored]).then(([problem]) => {
      if (!problem) {
        return;
      }
      console.error(problem);
      const mark = () => {
        for (const area of ['left', 'right'] as const) {
          for (const widget of labShell.widgets(area)) {
            if (widget.id.startsWith(SIDEBAR_ID_PREFIX)) {
              addBanner(widget, problem);
            }
          }
        }
      };
      mark();
      labShell.layoutModified.connect(mark); // sidebars added later
    });
  }
};
