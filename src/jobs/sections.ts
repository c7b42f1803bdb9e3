/** The registry behind `IJobDetailSections`. */
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IJobDetailSection, IJobDetailSections } from './tokens';

export class JobDetailSections implements IJobDetailSections {
  add(section: IJobDetailSection): IDisposable {
    if (this._sections.some(s => s.id === section.id)) {
      throw new Error(`A job section "${section.id}" is already there`);
    }
    // Stable sort: equal ranks keep the order they were added in.
    this._sections = [...this._sections, section].sort((a, b) => a.rank - b.rank);
    this._changed.emit();
    return new DisposableDelegate(() => {
      this._sections = this._sections.filter(s => s !== section);
      this._changed.emit();
    });
  }

  get sections(): readonly IJobDetailSection[] {
    return this._sections;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  private _sections: IJobDetailSection[] = [];
  private _changed = new Signal<this, void>(this);
}
