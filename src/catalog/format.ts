/**
 * Pure helpers of the shared datasets and models sidebar: the words and numbers it shows, the
 * queries it sends, the snippet it inserts. No DOM, no JupyterLab services: tested in jest.
 */
import { TritonAPI } from '../api';

type Entry = TritonAPI.ICatalogEntry;
type Detail = TritonAPI.ICatalogEntryDetail;

const BYTE_UNITS = ['KB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/**
 * Bytes as people read them in `du -h` and quota tools (powers of 1024): "512 B", "15.0 GB",
 * "146 GB"; "" for null.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !isFinite(bytes) || bytes < 0) {
    return '';
  }
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.95 KB would print as "1024.0 KB": carry into the next unit instead.
  if (value >= 999.95 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${BYTE_UNITS[unit]}`;
}

/** A parameter count the way model cards say it: "8.0B", "108.9M", "1.2T", "950"; "" for null. */
export function formatParams(count: number | null | undefined): string {
  if (count === null || count === undefined || !isFinite(count) || count < 0) {
    return '';
  }
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K']
  ];
  for (const [size, suffix] of steps) {
    // 999,960,000 says "1.0B", not "1000.0M".
    if (count >= size * 0.99995) {
      return `${(count / size).toFixed(1)}${suffix}`;
    }
  }
  return String(count);
}

/** "1,281,167" (always with thousands separators, whatever the browser's locale). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The size of an entry for its row: "15.0 GB", "computing…" while the scan runs, or "size unknown". */
export function sizeLabel(entry: Pick<Entry, 'size_bytes' | 'size_status'>): string {
  if (entry.size_bytes !== null && entry.size_bytes !== undefined) {
    return formatBytes(entry.size_bytes);
  }
  return entry.size_status === 'error' ? 'size unknown' : 'computing…';
}

/** "1 file", "15 files", "computing…" (file counts come with the sizes). */
export function filesLabel(entry: Pick<Entry, 'file_count' | 'size_status'>): string {
  if (entry.file_count === null || entry.file_count === undefined) {
    return entry.size_status === 'error' ? 'files unknown' : 'computing…';
  }
  return `${formatCount(entry.file_count)} file${entry.file_count === 1 ? '' : 's'}`;
}

/**
 * What a row says while its details are not known: "reading details…" while the background reads
 * them, "not responding" when its folder hangs, "" once they are known.
 */
export function detailsLabel(entry: Pick<Entry, 'details_status'>): string {
  switch (entry.details_status) {
    case 'pending':
      return 'reading details…';
    case 'stalled':
      return 'not responding';
    case 'error':
      return 'details unknown';
    default:
      return '';
  }
}

/**
 * The line above the list while the background works: "Reading details… 12 left · computing sizes…
 * 980 left", or null when nothing it would say concerns the entries shown.
 */
export function scanMessage(listing: TritonAPI.ICatalogListing, shown: Entry[], sizeFilter: boolean): string | null {
  if (!listing.scanning) {
    return null;
  }
  const parts: string[] = [];
  if (listing.detecting > 0 && shown.some(e => e.details_status === 'pending')) {
    parts.push(`Reading details… ${formatCount(listing.detecting)} left`);
  }
  if (listing.pending > 0 && (sizeFilter || shown.some(e => e.size_bytes === null && e.size_status === 'pending'))) {
    parts.push(`${parts.length ? 'computing' : 'Computing'} sizes… ${formatCount(listing.pending)} left`);
  }
  if (parts.length === 0) {
    return null;
  }
  return parts.join(' · ') + (sizeFilter ? ' (entries without a size yet are not shown)' : '');
}

/** Splits "meta-llama/Meta-Llama-3-8B" into ["meta-llama/", "Meta-Llama-3-8B"] for two weights of text. */
export function splitName(name: string): [string, string] {
  const slash = name.lastIndexOf('/');
  return slash > 0 && slash < name.length - 1 ? [name.slice(0, slash + 1), name.slice(slash + 1)] : ['', name];
}

/** What the sidebar asks the server for. */
export interface ISearchState {
  kind?: TritonAPI.CatalogKind | null;
  search?: string;
  tag?: string | null;
  /** One of SIZE_RANGES' ids; '' (or absent) for any size. */
  size?: string;
}

const GB = 1e9;

/** The size filter's choices (decimal units, as formatBytes shows them). */
export const SIZE_RANGES: { id: string; label: string; min?: number; max?: number }[] = [
  { id: '', label: 'Any size' },
  { id: 'small', label: 'Under 1 GB', max: GB },
  { id: 'medium', label: '1–10 GB', min: GB, max: 10 * GB },
  { id: 'large', label: '10–100 GB', min: 10 * GB, max: 100 * GB },
  { id: 'huge', label: 'Over 100 GB', min: 100 * GB }
];

/**
 * The API query of a search state: trimmed words, an empty search and no tag send nothing.
 * The sidebar leaves `kind` out on purpose (one request fills both tabs and their counts).
 */
export function buildQuery(state: ISearchState): TritonAPI.ICatalogQuery {
  const query: TritonAPI.ICatalogQuery = {};
  if (state.kind) {
    query.kind = state.kind;
  }
  const q = (state.search ?? '').trim().replace(/\s+/g, ' ');
  if (q) {
    query.q = q;
  }
  const tag = (state.tag ?? '').trim();
  if (tag) {
    query.tag = tag;
  }
  const range = SIZE_RANGES.find(r => r.id === (state.size ?? ''));
  if (range?.min !== undefined) {
    query.min_size = range.min;
  }
  if (range?.max !== undefined) {
    query.max_size = range.max;
  }
  return query;
}

/** A stable key of a query, to drop answers that arrive after the user typed something else. */
export function queryKey(query: TritonAPI.ICatalogQuery): string {
  return JSON.stringify([query.kind ?? '', query.q ?? '', query.tag ?? '', query.min_size ?? '', query.max_size ?? '']);
}

/** Entries of one kind, in the server's order. */
export function entriesOfKind(entries: Entry[], kind: TritonAPI.CatalogKind): Entry[] {
  return entries.filter(e => e.kind === kind);
}

export type SnippetTab = keyof TritonAPI.ICatalogSnippets;

export const SNIPPET_TABS: { id: SnippetTab; label: string; title: string }[] = [
  { id: 'python', label: 'Python', title: 'Python for a notebook or script (offline, from the shared copy)' },
  { id: 'batch', label: 'Batch script', title: 'Lines for an sbatch script' },
  { id: 'path', label: 'Path', title: 'Where it is on the cluster' }
];

/** A Python string literal of `text` (JSON's escaping is valid Python for these paths). */
export function pythonString(text: string): string {
  return JSON.stringify(text);
}

/**
 * The code "Insert snippet" puts into a notebook cell: the Python snippet; the path as a Python
 * assignment when the Path tab is chosen; the batch lines as a `%%bash` cell when that tab is chosen
 * (it runs them in a subshell: handy to try them, and says so). Falls back to Python, then the path.
 */
export function notebookSnippet(snippets: TritonAPI.ICatalogSnippets, tab: SnippetTab = 'python'): string {
  if (tab === 'path' && snippets.path) {
    return `data_path = ${pythonString(snippets.path)}\n`;
  }
  if (tab === 'batch' && snippets.batch.trim()) {
    return "%%bash\n# Batch-script lines; in a notebook they only affect this cell's shell.\n" + snippets.batch;
  }
  if (snippets.python.trim()) {
    return snippets.python;
  }
  return `data_path = ${pythonString(snippets.path)}\n`;
}

/** Removes a README's YAML front matter (Hugging Face model cards start with one). */
export function stripFrontMatter(markdown: string): string {
  const match = /^\uFEFF?---[ \t]*\r?\n[\s\S]*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(markdown);
  return match ? markdown.slice(match[0].length).replace(/^\s*\n/, '') : markdown;
}

/** One row of the detail's facts: label, value, and an optional tooltip. */
export interface IFact {
  label: string;
  value: string;
  title?: string;
  code?: boolean;
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** The facts the detail view lists, in reading order, skipping what is unknown. */
export function entryFacts(d: Detail): IFact[] {
  const facts: IFact[] = [];
  const add = (label: string, value: string | null | undefined, extra: Partial<IFact> = {}) => {
    if (value) {
      facts.push({ label, value, ...extra });
    }
  };
  const hf = d.hf;
  add(
    'Kind',
    `${d.kind === 'model' ? 'Model' : 'Dataset'}${d.source === 'huggingface' ? ' · Hugging Face cache' : ' · folder'}`
  );
  add('Repository', hf?.repo_id ?? d.repo_id, { code: true });
  if (hf) {
    add('Architecture', hf.architectures.join(', '));
    add('Type', [hf.model_type, hf.torch_dtype].filter(Boolean).join(' · '));
  }
  const params = d.num_parameters ?? hf?.num_parameters ?? null;
  if (params !== null) {
    add('Parameters', formatParams(params), {
      title: formatCount(params) + (hf?.parameter_source ? ` (from the ${hf.parameter_source.replace('-', ' ')})` : '')
    });
  }
  if (hf?.context_length) {
    add('Context', `${formatCount(hf.context_length)} tokens`);
  }
  if (hf && (hf.num_layers || hf.hidden_size || hf.vocab_size)) {
    add(
      'Shape',
      [
        hf.num_layers ? plural(hf.num_layers, 'layer') : '',
        hf.hidden_size ? `hidden ${formatCount(hf.hidden_size)}` : '',
        hf.vocab_size ? `vocab ${formatCount(hf.vocab_size)}` : ''
      ]
        .filter(Boolean)
        .join(' · ')
    );
  }
  if (hf && hf.revisions.length > 0) {
    const main = hf.revisions.find(r => r.commit === hf.default_revision) ?? hf.revisions[0];
    const refs = main.refs.length ? main.refs.join(', ') + ' → ' : '';
    const more = hf.revisions.length - 1;
    add('Revision', `${refs}${main.commit.slice(0, 7)}${more ? ` (+${more} older)` : ''}`, {
      title: hf.revisions.map(r => `${r.commit}${r.refs.length ? ' (' + r.refs.join(', ') + ')' : ''}`).join('\n')
    });
  }
  const size = d.files?.size_bytes ?? d.size_bytes;
  const disk = d.files?.disk_bytes ?? d.disk_bytes;
  if (size !== null && size !== undefined) {
    const sparse = disk !== null && disk !== undefined && disk < size / 2;
    add('Size', formatBytes(size) + (sparse ? ` (${formatBytes(disk)} on disk)` : ''), {
      title:
        `${formatCount(size)} bytes` +
        (disk !== null && disk !== undefined ? `; ${formatCount(disk)} bytes on disk` : '')
    });
  } else {
    add('Size', d.size_status === 'error' ? 'unknown (could not be read)' : 'computing…');
  }
  const fileCount = d.files?.file_count ?? d.file_count;
  if (fileCount !== null && fileCount !== undefined) {
    const dirs = d.files?.dir_count;
    add('Files', plural(fileCount, 'file') + (dirs ? ` in ${plural(dirs, 'folder')}` : ''));
  }
  const formats = d.files?.formats ?? {};
  const formatNames = Object.keys(formats);
  if (formatNames.length > 0) {
    add(
      'Formats',
      formatNames
        .sort((a, b) => formats[b] - formats[a])
        .slice(0, 6)
        .map(ext => `${ext} ×${formatCount(formats[ext])}`)
        .join(', ') + (d.files.formats_exact ? '' : ' (sampled)')
    );
  } else if (d.formats.length > 0) {
    add('Formats', d.formats.join(', '));
  }
  const ds = d.dataset;
  if (ds) {
    add('Layout', ds.layouts.join(', '));
    add('Splits', ds.splits.join(', '));
    if (ds.class_dirs) {
      add('Classes', plural(ds.class_dirs, 'class folder'));
    }
    for (const shard of ds.shards.slice(0, 4)) {
      add(
        'Shards',
        `${shard.directory || '.'}: ${plural(shard.count, 'shard')}${shard.pattern ? ` (${shard.pattern})` : ''}`,
        { code: false, title: shard.examples.join('\n') }
      );
    }
    if (ds.archives.length > 0) {
      add('Archives', ds.archives.slice(0, 6).join(', ') + (ds.archives.length > 6 ? ', …' : ''));
    }
  }
  add('License', d.license);
  add('Citation', d.citation);
  add('Root', d.root);
  return facts;
}

const IMAGE_EXTENSIONS = /\.(png|jpe?g|gif|webp|svg)$/i;

/**
 * The path below the README's folder that a README image URL names (`docs/a.png`, `./a.png`), or
 * null for what the server does not serve: absolute URLs, data: URLs, other files, `..`.
 */
export function readmeImagePath(url: string): string | null {
  if (!url || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('/') || url.startsWith('#')) {
    return null;
  }
  let path = url.split(/[?#]/)[0];
  try {
    path = decodeURI(path);
  } catch {
    return null;
  }
  const parts = path.split('/').filter(part => part !== '.');
  if (parts.some(part => part === '' || part === '..') || !IMAGE_EXTENSIONS.test(path)) {
    return null;
  }
  return parts.join('/');
}
