/**
 * The list of the shared data sidebar: search, size and tag filters, Models / Datasets tabs, and a
 * row per entry. Rows come from names first: "reading details…" stands where the description,
 * parameters and tags appear once the server's background has read them (like "computing…" for
 * sizes), and "not responding" where the entry's folder hangs.
 */
import { closeIcon, refreshIcon, searchIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { TritonAPI } from '../api';
import { ErrorBanner, WarningBanner } from './banner';
import { detailsLabel, filesLabel, formatParams, scanMessage, sizeLabel, SIZE_RANGES, splitName } from './format';
import { CatalogModel } from './model';

const KINDS: { kind: TritonAPI.CatalogKind; label: string }[] = [
  { kind: 'model', label: 'Models' },
  { kind: 'dataset', label: 'Datasets' }
];

/** Up/Down move between entries (and from the search box into the list). */
function moveFocus(container: HTMLElement | null, from: Element | null, step: number): boolean {
  if (!container) {
    return false;
  }
  const buttons = Array.from(container.querySelectorAll<HTMLElement>('.tml-CatalogEntry'));
  if (buttons.length === 0) {
    return false;
  }
  const index = buttons.findIndex(b => b === from);
  const next = index < 0 ? (step > 0 ? 0 : -1) : index + step;
  if (next < 0 || next >= buttons.length) {
    return false;
  }
  buttons[next].focus();
  return true;
}

export function ListView({ model, onOpen }: { model: CatalogModel; onOpen: (id: string) => void }): JSX.Element {
  const listing = model.listing;
  const error = model.error;
  const entries = model.entries;
  const listRef = React.useRef<HTMLUListElement>(null);
  const kindLabel = model.kind === 'model' ? 'models' : 'datasets';
  const scan = listing ? scanMessage(listing, entries, model.size !== '') : null;

  return (
    <div className="tml-CatalogList-view">
      <div className="tml-PanelHeader">
        <h2 className="tml-PanelHeader-title">Shared data</h2>
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Ask the server again"
          onClick={() => void model.refresh()}
          enabled={!model.loading}
        />
      </div>
      <label className="tml-Search tml-CatalogSearch">
        <searchIcon.react tag="span" className="tml-Search-icon" />
        <input
          type="search"
          className="tml-Search-input"
          placeholder="Search by name or tag"
          aria-label="Search shared datasets and models"
          spellCheck={false}
          value={model.search}
          onChange={event => (model.search = event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Escape' && model.search) {
              model.search = '';
              event.stopPropagation();
            } else if (event.key === 'ArrowDown' && moveFocus(listRef.current, null, 1)) {
              event.preventDefault();
            } else if (event.key === 'Enter' && entries.length > 0) {
              onOpen(entries[0].id);
            }
          }}
        />
      </label>
      <label className="tml-CatalogFilter">
        <span className="tml-muted">Size</span>
        <select
          className="tml-CatalogSize jp-mod-styled"
          aria-label="Filter by size"
          value={model.size}
          onChange={event => (model.size = event.target.value)}
        >
          {SIZE_RANGES.map(range => (
            <option key={range.id} value={range.id}>
              {range.label}
            </option>
          ))}
        </select>
      </label>
      {model.tag && (
        <div className="tml-CatalogFilter">
          <span className="tml-muted">Tag</span>
          <span className="tml-Tag tml-Tag--active">{model.tag}</span>
          <button
            className="tml-IconButton"
            title="Show all tags again"
            aria-label="Remove the tag filter"
            onClick={() => (model.tag = null)}
          >
            <closeIcon.react tag="span" elementSize="small" />
          </button>
        </div>
      )}
      <div className="tml-CatalogTabs" role="tablist" aria-label="Kind">
        {KINDS.map(({ kind, label }) => {
          const count = model.count(kind);
          return (
            <button
              key={kind}
              role="tab"
              className="tml-CatalogTab"
              data-kind={kind}
              aria-selected={model.kind === kind}
              onClick={() => (model.kind = kind)}
            >
              {label}
              {count !== null && <span className="tml-CatalogTab-count">{count}</span>}
            </button>
          );
        })}
      </div>
      {error && <ErrorBanner title="Could not load the catalog" error={error} stale={listing !== null} />}
      {listing && <WarningBanner warnings={listing.warnings ?? []} />}
      {scan && (
        <p className="tml-CatalogScan tml-muted tml-small" aria-live="polite">
          <span className="tml-Spinner" aria-hidden="true" />
          {scan}
        </p>
      )}
      {!listing && !error && <p className="tml-muted tml-CatalogEmpty">Loading the catalog…</p>}
      {listing && entries.length === 0 && (
        <p className="tml-muted tml-CatalogEmpty">
          {model.query.q || model.query.tag || model.size
            ? `No ${kindLabel} match${model.query.q ? ` “${model.query.q}”` : ''}${
                model.query.tag ? ` with tag ${model.query.tag}` : ''
              }${model.size ? ` of ${SIZE_RANGES.find(r => r.id === model.size)?.label.toLowerCase()}` : ''}.`
            : `No shared ${kindLabel} were found.`}
        </p>
      )}
      <ul
        className={`tml-CatalogList${model.current ? '' : ' tml-mod-stale'}`}
        role="tabpanel"
        aria-label={kindLabel}
        ref={listRef}
        onKeyDown={event => {
          const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0;
          if (step && moveFocus(listRef.current, document.activeElement, step)) {
            event.preventDefault();
          }
        }}
      >
        {entries.map(entry => (
          <li key={entry.id}>
            <EntryRow entry={entry} onOpen={onOpen} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Tags worth a chip in the list: the source tag says nothing the row does not. */
function visibleTags(tags: string[]): string[] {
  return tags.filter(t => t !== 'huggingface');
}

function EntryRow({ entry, onOpen }: { entry: TritonAPI.ICatalogEntry; onOpen: (id: string) => void }): JSX.Element {
  const [org, name] = splitName(entry.name);
  const size = sizeLabel(entry);
  const computing = entry.size_bytes === null;
  const details = detailsLabel(entry);
  const tags = visibleTags(entry.tags);
  const shown = tags.slice(0, 3);
  return (
    <button
      className="tml-CatalogEntry"
      data-entry-id={entry.id}
      data-kind={entry.kind}
      title={`${entry.name}\n${entry.path}`}
      onClick={() => onOpen(entry.id)}
    >
      <span className="tml-CatalogEntry-name">
        {org && <span className="tml-CatalogEntry-org">{org}</span>}
        <span className="tml-CatalogEntry-base">{name}</span>
      </span>
      <span className="tml-CatalogEntry-meta">
        {entry.num_parameters !== null && (
          <span className="tml-CatalogEntry-params" title={`${entry.num_parameters.toLocaleString()} parameters`}>
            {formatParams(entry.num_parameters)} params
          </span>
        )}
        <span className={`tml-CatalogEntry-size${computing ? ' tml-computing' : ''}`}>{size}</span>
        {entry.file_count !== null && <span className="tml-CatalogEntry-files">{filesLabel(entry)}</span>}
      </span>
      {entry.description && <span className="tml-CatalogEntry-description">{entry.description}</span>}
      {entry.details_status === 'stalled' ? (
        <span
          className="tml-CatalogEntry-details tml-CatalogEntry-stalled"
          title="Its folder on the shared filesystem has not answered; the details appear once it does."
        >
          {details}
        </span>
      ) : (
        details && (
          <span className="tml-CatalogEntry-details tml-computing" data-status={entry.details_status}>
            {details}
          </span>
        )
      )}
      {shown.length > 0 && (
        <span className="tml-CatalogEntry-tags">
          {shown.map(t => (
            <span key={t} className="tml-Tag">
              {t}
            </span>
          ))}
          {tags.length > shown.length && (
            <span className="tml-Tag tml-Tag--more" title={tags.slice(3).join(', ')}>
              +{tags.length - shown.length}
            </span>
          )}
        </span>
      )}
    </button>
  );
}
