/**
 * One entry of the shared data sidebar: its facts, the usage snippets with Insert / Use in a job /
 * Copy, tags that filter the list, the top-level files and the README, rendered by JupyterLab's
 * Markdown renderer with images read through the catalog-image endpoint.
 */
import { IRenderMime, IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { caretLeftIcon, refreshIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { TritonAPI, TritonClient } from '../api';
import { ErrorBanner } from './banner';
import {
  entryFacts,
  filesLabel,
  formatParams,
  notebookSnippet,
  readmeImagePath,
  sizeLabel,
  SNIPPET_TABS,
  SnippetTab,
  splitName,
  stripFrontMatter
} from './format';
import { CatalogModel } from './model';

/** What the detail's buttons do; the plugin implements them with JupyterLab's services. */
export interface ICatalogActions {
  /** Copy text to the clipboard. */
  copy(text: string): void;
  /** Insert code in a new cell below the active cell of the current notebook; false when none is open. */
  insert(code: string): boolean;
  /** Hand the entry to the job dialog. */
  useInJob(entry: TritonAPI.ICatalogEntryDetail): void;
}

type Feedback = 'path' | 'snippet' | 'insert' | null;

export function DetailView({
  model,
  rendermime,
  actions,
  id
}: {
  model: CatalogModel;
  rendermime: IRenderMimeRegistry | null;
  actions: ICatalogActions;
  id: string;
}): JSX.Element {
  const detail = model.detail;
  const entry: TritonAPI.ICatalogEntry | null = detail ?? model.selectedEntry;
  const [tab, setTab] = React.useState<SnippetTab>('python');
  const [feedback, setFeedback] = React.useState<Feedback>(null);
  const backRef = React.useRef<HTMLButtonElement>(null);

  React.useEffect(() => {
    backRef.current?.focus({ preventScroll: true });
  }, [id]);
  React.useEffect(() => {
    if (!feedback) {
      return;
    }
    const timer = window.setTimeout(() => setFeedback(null), 1800);
    return () => window.clearTimeout(timer);
  }, [feedback]);

  const [org, name] = splitName(entry?.name ?? id.split('/').pop() ?? id);
  const snippets = detail?.snippets ?? null;
  const facts = detail ? entryFacts(detail) : [];
  const back = () => model.close();
  const tags = entry?.tags ?? [];
  const readme = detail?.readme ? stripFrontMatter(detail.readme) : '';

  return (
    <div
      className="tml-CatalogDetail"
      data-entry-id={id}
      onKeyDown={event => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          back();
        }
      }}
    >
      <div className="tml-CatalogDetail-nav">
        <button ref={backRef} className="tml-CatalogBack" onClick={back} title="Back to the list (Escape)">
          <caretLeftIcon.react tag="span" elementSize="normal" />
          <span>{entry?.kind === 'dataset' ? 'Datasets' : 'Models'}</span>
        </button>
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Ask the server again"
          onClick={() => void model.open(id)}
          enabled={!model.loading}
        />
      </div>
      <h2 className="tml-CatalogDetail-title">
        {org && <span className="tml-CatalogEntry-org">{org}</span>}
        <span>{name}</span>
      </h2>
      {entry && (
        <div className="tml-CatalogDetail-chips">
          <span className={`tml-Chip tml-Chip--${entry.kind}`}>{entry.kind}</span>
          {entry.num_parameters !== null && (
            <span
              className="tml-Chip tml-CatalogDetail-params"
              title={`${entry.num_parameters.toLocaleString()} parameters`}
            >
              {formatParams(entry.num_parameters)} params
            </span>
          )}
          <span className={`tml-Chip${entry.size_bytes === null ? ' tml-computing' : ''}`}>{sizeLabel(entry)}</span>
          {entry.file_count !== null && <span className="tml-Chip">{filesLabel(entry)}</span>}
        </div>
      )}
      {entry?.description && <p className="tml-CatalogDetail-description">{entry.description}</p>}
      {model.detailError && (
        <ErrorBanner title="Could not load this entry" error={model.detailError} stale={!!detail} />
      )}
      {!detail && !model.detailError && <p className="tml-muted">Loading…</p>}
      {detail && snippets && (
        <>
          <div className="tml-CatalogActions">
            <button
              className="tml-CatalogAction tml-mod-primary"
              data-action="insert-snippet"
              title="Insert the snippet in a new cell below the active cell of the current notebook"
              onClick={() => {
                if (actions.insert(notebookSnippet(snippets, tab))) {
                  setFeedback('insert');
                }
              }}
            >
              {feedback === 'insert' ? 'Inserted' : 'Insert snippet'}
            </button>
            <button
              className="tml-CatalogAction"
              data-action="use-in-job"
              title="Pre-fill a batch job with this entry"
              onClick={() => actions.useInJob(detail)}
            >
              Use in a job
            </button>
            <button
              className="tml-CatalogAction"
              data-action="copy-snippet"
              title={`Copy the ${SNIPPET_TABS.find(t => t.id === tab)?.label} snippet`}
              onClick={() => {
                actions.copy(snippets[tab]);
                setFeedback('snippet');
              }}
            >
              {feedback === 'snippet' ? 'Copied' : 'Copy snippet'}
            </button>
            <button
              className="tml-CatalogAction"
              data-action="copy-path"
              title={detail.path}
              onClick={() => {
                actions.copy(detail.path);
                setFeedback('path');
              }}
            >
              {feedback === 'path' ? 'Copied' : 'Copy path'}
            </button>
          </div>
          <div className="tml-CatalogSnippetTabs" role="tablist" aria-label="Snippet">
            {SNIPPET_TABS.map(t => (
              <button
                key={t.id}
                role="tab"
                className="tml-CatalogSnippetTab"
                data-snippet={t.id}
                aria-selected={tab === t.id}
                title={t.title}
                onClick={() => setTab(t.id)}
              >
                {t.label}
              </button>
            ))}
          </div>
          <pre className="tml-CatalogSnippet" data-snippet={tab} role="tabpanel" tabIndex={0}>
            {snippets[tab]}
          </pre>
          <section className="tml-CatalogSection">
            <h3>Details</h3>
            <dl className="tml-CatalogFacts">
              {facts.map((f, i) => (
                <React.Fragment key={`${f.label}-${i}`}>
                  <dt>{f.label}</dt>
                  <dd title={f.title}>{f.code ? <code>{f.value}</code> : f.value}</dd>
                </React.Fragment>
              ))}
              {detail.url && (
                <>
                  <dt>Link</dt>
                  <dd>
                    <a href={detail.url} target="_blank" rel="noopener noreferrer">
                      {detail.url.replace(/^https?:\/\//, '')}
                    </a>
                  </dd>
                </>
              )}
              <dt>Path</dt>
              <dd className="tml-CatalogFacts-path">
                <code>{detail.path}</code>
              </dd>
            </dl>
          </section>
          {tags.length > 0 && (
            <section className="tml-CatalogSection">
              <h3>Tags</h3>
              <div className="tml-CatalogDetail-tags">
                {tags.map(t => (
                  <button
                    key={t}
                    className="tml-Tag tml-Tag--button"
                    title={`Show everything tagged ${t}`}
                    onClick={() => {
                      model.tag = t;
                      model.search = '';
                      model.close();
                    }}
                  >
                    {t}
                  </button>
                ))}
              </div>
            </section>
          )}
          {detail.files.top_level.length > 0 && (
            <section className="tml-CatalogSection">
              <details className="tml-CatalogFiles">
                <summary>
                  Top-level files ({detail.files.top_level.length}
                  {detail.files.top_level_truncated ? '+' : ''})
                </summary>
                <ul>
                  {detail.files.top_level.map(f => (
                    <li key={f.name} className={f.is_dir ? 'tml-mod-dir' : ''}>
                      <code>
                        {f.name}
                        {f.is_dir ? '/' : ''}
                      </code>
                    </li>
                  ))}
                </ul>
              </details>
            </section>
          )}
          <section className="tml-CatalogSection tml-CatalogReadme">
            <h3>README</h3>
            {readme ? (
              <>
                <Markdown source={readme} rendermime={rendermime} entryId={id} />
                {detail.readme_truncated && (
                  <p className="tml-muted tml-small">Shortened; the whole file is {detail.readme_path}.</p>
                )}
              </>
            ) : (
              <p className="tml-muted">No README here.</p>
            )}
          </section>
        </>
      )}
    </div>
  );
}

/**
 * Markdown through JupyterLab's own renderer (the one notebooks use), untrusted, so the HTML in it
 * is sanitized. Without a rendermime registry it falls back to the plain text.
 */
function Markdown({
  source,
  rendermime,
  entryId
}: {
  source: string;
  rendermime: IRenderMimeRegistry | null;
  entryId: string;
}): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  // A layout effect: its clean-up runs while the host is still in the document, so the renderer
  // can be detached the Lumino way.
  React.useLayoutEffect(() => {
    const node = host.current;
    if (!node || !rendermime) {
      return;
    }
    // Images next to the README (`![](docs/arch.png)`) load through the catalog-image endpoint.
    const resolver: IRenderMime.IResolver = {
      resolveUrl: async url => url,
      getDownloadUrl: async url => TritonClient.catalogImageUrl(entryId, readmeImagePath(url) ?? url),
      isLocal: url => readmeImagePath(url) !== null
    };
    const renderer = rendermime.clone({ resolver }).createRenderer('text/markdown');
    renderer.addClass('tml-CatalogMarkdown');
    const model = new MimeModel({ data: { 'text/markdown': source }, trusted: false });
    if (node.isConnected) {
      Widget.attach(renderer, node);
    } else {
      node.appendChild(renderer.node);
    }
    renderer.renderModel(model).catch(reason => console.error('tritonml-lab: README rendering failed', reason));
    return () => {
      if (renderer.isAttached && renderer.node.isConnected) {
        Widget.detach(renderer);
      }
      renderer.node.remove();
      if (!renderer.isAttached) {
        renderer.dispose();
      }
    };
  }, [source, rendermime, entryId]);
  return rendermime ? (
    <div ref={host} className="tml-CatalogReadme-body" />
  ) : (
    <pre className="tml-CatalogReadme-body tml-CatalogReadme-plain">{source}</pre>
  );
}
