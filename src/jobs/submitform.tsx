/**
 * What the two submission dialogs (New job, Run on GPU) share: a form body that keeps the dialog open
 * until the server accepted the submission, per-field messages of a 400 next to their fields, Slurm's
 * own message of a 422 in a banner, and a Dialog whose accept button waits for all that.
 */
import { Dialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { APIError } from '../api';
import { ICheckpointForm } from './checkpointform';
import { fieldErrors } from './format';

export interface IBanner {
  kind: 'invalid' | 'slurm' | 'error';
  title: string;
  message: string;
}

/** The banner above the fields, when there is one. */
export function SubmitBanner({ banner }: { banner: IBanner | null }): JSX.Element | null {
  if (!banner) {
    return null;
  }
  return (
    <div className="tml-Banner tml-Banner--error tml-JobForm-banner" role="alert" data-kind={banner.kind}>
      <strong>{banner.title}</strong>
      {banner.message && <p>{banner.message}</p>}
    </div>
  );
}

/** A dialog body that submits something of type T. Subclasses render the fields and call `send`. */
export abstract class SubmitForm<T> extends ReactWidget {
  /** What the server accepted, after a successful submission. */
  get submitted(): T | null {
    return this._submitted;
  }

  get submitting(): boolean {
    return this._submitting;
  }

  /** Check the fields and send; resolves with true when the server accepted the submission. */
  abstract submit(): Promise<boolean>;

  /** The element the keyboard starts in once the form is drawn. */
  protected abstract readonly focusSelector: string;

  /** Run `request`, keeping the form as it is (and explaining why) when the server refuses. */
  protected async send(request: () => Promise<T>): Promise<boolean> {
    if (this._submitting) {
      return false;
    }
    this._submitting = true;
    this._banner = null;
    this.update();
    try {
      this._submitted = await request();
      return true;
    } catch (error) {
      this.showError(error);
      return false;
    } finally {
      this._submitting = false;
      this.update();
    }
  }

  /** Map a refusal to field messages and a banner; subclasses handle their own cases first. */
  protected showError(error: unknown): void {
    if (error instanceof APIError) {
      if (error.status === 400 && error.body?.errors?.length) {
        this._errors = fieldErrors(error.body.errors);
        // Messages of fields the form does not show would be lost: the banner lists them.
        const other = Object.entries(this._errors).filter(([field]) => !this.shownFields.has(field));
        this._banner = {
          kind: 'invalid',
          title: 'Check the marked fields',
          message: other.map(([field, message]) => (field === 'spec' ? message : `${field}: ${message}`)).join('; ')
        };
        return;
      }
      if (error.status === 422) {
        this._banner = { kind: 'slurm', title: 'Slurm rejected the job', message: error.message };
        return;
      }
      if (error.schedulerUnavailable) {
        this._banner = { kind: 'slurm', title: 'The scheduler is not answering', message: error.message };
        return;
      }
    }
    this._banner = { kind: 'error', title: 'Could not submit', message: (error as Error).message };
  }

  /** Fields the form marks itself (a server message for any other goes in the banner). */
  protected abstract readonly shownFields: ReadonlySet<string>;

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    // Put the keyboard in the form once React has drawn it (opened from a shortcut, the dialog would
    // otherwise leave the focus behind it, and Escape would not reach it).
    const focus = () => {
      if (!this.node.contains(document.activeElement)) {
        this.node.querySelector<HTMLElement>(this.focusSelector)?.focus();
      }
    };
    void (this.renderPromise ?? Promise.resolve()).then(() => requestAnimationFrame(focus));
  }

  protected _errors: { [field: string]: string } = {};
  protected _banner: IBanner | null = null;
  private _submitting = false;
  private _submitted: T | null = null;
}

/**
 * A Dialog whose accept button (and Enter) waits for the server: it closes only once the submission
 * was accepted, and stays open with the messages otherwise. Escape closes it; a stray click outside
 * does not (hasClose: false), so no form is lost by accident.
 */
export class SubmitDialog<R> extends Dialog<R | null> {
  constructor(
    private readonly _form: SubmitForm<unknown> & Dialog.IBodyWidget<R | null>,
    options: { title: string; accept: string; className: string; focusNodeSelector?: string }
  ) {
    super({
      title: options.title,
      body: _form,
      buttons: [Dialog.cancelButton({ label: 'Close' }), Dialog.okButton({ label: options.accept })],
      defaultButton: 1,
      hasClose: false,
      focusNodeSelector: options.focusNodeSelector
    });
    this.addClass(options.className);
  }

  handleEvent(event: Event): void {
    if (event.type === 'keydown' && (event as KeyboardEvent).key === 'Escape') {
      event.stopPropagation();
      event.preventDefault();
      this.reject();
      return;
    }
    super.handleEvent(event);
  }

  resolve(index?: number): void {
    if (index === 0) {
      super.resolve(0);
      return;
    }
    if (this._form.submitting) {
      return;
    }
    const button = this.node.querySelector<HTMLButtonElement>('.jp-Dialog-button.jp-mod-accept');
    if (button) {
      button.disabled = true;
    }
    void this._form.submit().then(ok => {
      if (button) {
        button.disabled = false;
      }
      if (ok) {
        super.resolve(1);
      }
    });
  }
}

/** "Warn before the limit" and "Requeue up to", with a hint on what the job gets. */
export function CheckpointFields(props: {
  form: ICheckpointForm;
  errors: { [field: string]: string };
  onChange(changes: Partial<ICheckpointForm>): void;
}): JSX.Element {
  const { form, errors, onChange } = props;
  const one = (name: keyof ICheckpointForm, label: string, placeholder: string, hint: string) => {
    const field = `checkpoint.${name}`;
    const error = errors[field] ?? (name === 'warn' ? errors.checkpoint : undefined);
    return (
      <div className={`tml-Field${error ? ' tml-mod-invalid' : ''}`} data-field={field}>
        <label className="tml-Field-label" htmlFor={`tml-checkpoint-${name}`}>
          {label}
        </label>
        <input
          id={`tml-checkpoint-${name}`}
          className="tml-Input"
          name={field}
          value={form[name]}
          placeholder={placeholder}
          onChange={e => onChange({ [name]: e.currentTarget.value })}
        />
        {error ? (
          <span className="tml-Field-error" role="alert">
            {error}
          </span>
        ) : (
          <span className="tml-Field-hint">{hint}</span>
        )}
      </div>
    );
  };
  return (
    <>
      {one(
        'warn',
        'Warn before the limit',
        'e.g. 2m',
        'SIGUSR1 this long before the time limit: tritonml.should_checkpoint() turns true (Slurm may warn up to a minute early)'
      )}
      {one(
        'requeue',
        'Requeue up to',
        'e.g. 3',
        'a job that stops for the limit (tritonml.requeue()) comes back this many times and resumes from tritonml.checkpoint_dir()'
      )}
    </>
  );
}

/** The fields most jobs leave alone, folded: its open state is the form's (a field's message under it
 * opens it). One component for both dialogs. */
export function MoreOptions(props: {
  open: boolean;
  onOpen: (open: boolean) => void;
  summary: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <details
      className="tml-JobForm-advanced"
      open={props.open}
      onToggle={e => {
        const open = (e.currentTarget as HTMLDetailsElement).open;
        if (open !== props.open) {
          props.onOpen(open);
        }
      }}
    >
      <summary>{props.summary}</summary>
      <div className="tml-FieldGrid">{props.children}</div>
    </details>
  );
}

export { CHECKPOINT_FIELDS, checkpointFromForm, EMPTY_CHECKPOINT } from './checkpointform';
export type { ICheckpointForm } from './checkpointform';
