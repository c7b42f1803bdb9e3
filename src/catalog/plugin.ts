import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

/** The shared datasets and models sidebar (being built). */
export const catalogPlugin: JupyterFrontEndPlugin<void> = {
  id: 'tritonml-lab:catalog',
  description: 'Shared datasets and models of the cluster, with usage snippets.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    void app;
  }
};
