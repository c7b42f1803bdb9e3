/**
 * A sidebar whose model works only while the sidebar is visible: the model's `active` follows the
 * widget (attached and shown, or not), so a closed sidebar costs the server and Slurm nothing.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

export interface IActivatable {
  active: boolean;
}

export abstract class VisibleOnlySidebar extends ReactWidget {
  protected abstract get activatable(): IActivatable;

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.activatable.active = this.isVisible;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.activatable.active = true;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.activatable.active = false;
  }

  protected onBeforeDetach(msg: Message): void {
    this.activatable.active = false;
    super.onBeforeDetach(msg);
  }
}
