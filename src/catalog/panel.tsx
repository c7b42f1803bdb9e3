/**
 * The "Shared datasets and models" sidebar: it shows either the list (./list.tsx) or the detail of
 * one entry with its README and usage snippets (./detail.tsx), and keeps the list's scroll position
 * and focus across a visit to an entry.
 *
 * The detail opens inside the sidebar (with a Back button and Escape) rather than in a main-area
 * tab on purpose: its main action is "Insert snippet" into the notebook the user is working in, so
 * the notebook stays in view next to it, and nothing new piles up among the user's documents.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { VisibleOnlySidebar } from '../sidebar';
import { DetailView, ICatalogActions } from './detail';
import { catalogIcon } from './icons';
import { ListView } from './list';
import { CatalogModel } from './model';

export class CatalogPanel extends VisibleOnlySidebar {
  constructor(
    readonly model: CatalogModel,
    private readonly _options: CatalogPanel.IOptions
  ) {
    super();
    this.id = 'tritonml-catalog';
    this.addClass('tml-CatalogPanel');
    this.title.icon = catalogIcon;
    this.title.caption = 'Shared datasets and models (tritonml-lab)';
    model.changed.connect(() => this.update(), this);
  }

  render(): JSX.Element {
    return (
      <CatalogView
        model={this.model}
        rendermime={this._options.rendermime ?? null}
        actions={this._options.actions}
        scroller={this.node}
      />
    );
  }

  protected get activatable(): CatalogModel {
    return this.model;
  }

  /** Put the keyboard in the search box (used when the panel is shown from the palette). */
  focusSearch(): void {
    const input = this.node.querySelector<HTMLInputElement>('.tml-CatalogSearch input');
    if (input) {
      input.focus();
    } else {
      // Not rendered yet (first show): focus once React has drawn it.
      this._focusOnRender = true;
      this.update();
    }
  }

  protected onUpdateRequest(msg: Message): void {
    super.onUpdateRequest(msg);
    if (this._focusOnRender) {
      this._focusOnRender = false;
      void this.renderPromise?.then(() =>
        this.node.querySelector<HTMLInputElement>('.tml-CatalogSearch input')?.focus()
      );
    }
  }

  private _focusOnRender = false;
}

export namespace CatalogPanel {
  export interface IOptions {
    actions: ICatalogActions;
    rendermime?: IRenderMimeRegistry | null;
  }
}

function CatalogView(props: {
  model: CatalogModel;
  rendermime: IRenderMimeRegistry | null;
  actions: ICatalogActions;
  scroller: HTMLElement;
}): JSX.Element {
  const { model, rendermime, actions, scroller } = props;
  const selected = model.selectedId;
  const listScroll = React.useRef(0);
  const lastOpened = React.useRef<string | null>(null);

  // The list keeps its scroll position and focus across a visit to an entry.
  React.useLayoutEffect(() => {
    if (selected) {
      scroller.scrollTop = 0;
    } else {
      scroller.scrollTop = listScroll.current;
      const id = lastOpened.current;
      if (id) {
        const button = Array.from(scroller.querySelectorAll<HTMLElement>('.tml-CatalogEntry')).find(
          b => b.dataset.entryId === id
        );
        button?.focus({ preventScroll: true });
      }
    }
  }, [selected]);

  const open = (id: string) => {
    listScroll.current = scroller.scrollTop;
    lastOpened.current = id;
    void model.open(id);
  };

  return selected ? (
    <DetailView model={model} rendermime={rendermime} actions={actions} id={selected} />
  ) : (
    <ListView model={model} onOpen={open} />
  );
}
