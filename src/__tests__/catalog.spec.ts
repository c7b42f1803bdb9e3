import { jobSpecFor } from '../catalog/useInJob';
import { APIError, TritonAPI } from '../api';
import {
  buildQuery,
  detailsLabel,
  readmeImagePath,
  entryFacts,
  filesLabel,
  formatBytes,
  formatParams,
  notebookSnippet,
  queryKey,
  scanMessage,
  sizeLabel,
  splitName,
  stripFrontMatter
} from '../catalog/format';
import { CatalogModel } from '../catalog/model';
import { useInJob } from '../catalog/useInJob';

function entry(over: Partial<TritonAPI.ICatalogEntry> = {}): TritonAPI.ICatalogEntry {
  return {
    id: 'dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B',
    kind: 'model',
    name: 'meta-llama/Meta-Llama-3-8B',
    root: 'dldata',
    path: '/scratch/shareddata/dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B',
    source: 'huggingface',
    size_bytes: null,
    disk_bytes: null,
    file_count: null,
    size_status: 'pending',
    details_status: 'ready',
    description: 'LlamaForCausalLM · 8.0B parameters',
    license: 'llama3',
    tags: ['huggingface', 'llama'],
    formats: ['.safetensors'],
    repo_id: 'meta-llama/Meta-Llama-3-8B',
    num_parameters: 8030261248,
    ...over
  };
}

function listing(
  entries: TritonAPI.ICatalogEntry[],
  over: Partial<TritonAPI.ICatalogListing> = {}
): TritonAPI.ICatalogListing {
  return { entries, scanning: false, pending: 0, detecting: 0, warnings: [], ...over };
}

const snippets: TritonAPI.ICatalogSnippets = {
  python: 'import os\nos.environ["HF_HUB_OFFLINE"] = "1"\n',
  batch: 'export HF_HUB_OFFLINE=1\n',
  path: "/scratch/shareddata/dldata/it's here"
};

function detail(over: Partial<TritonAPI.ICatalogEntryDetail> = {}): TritonAPI.ICatalogEntryDetail {
  return {
    ...entry({ size_bytes: 16060581715, disk_bytes: 147456, file_count: 15, size_status: 'ready' }),
    metadata: null,
    citation: 'Meta AI, 2024',
    url: null,
    hf: {
      repo_id: 'meta-llama/Meta-Llama-3-8B',
      repo_type: 'model',
      hub_dir: '/x/hub',
      hf_home: '/x',
      revisions: [
        { commit: '62bd457b6fe961a42a631306577e622c83876cb6', refs: ['main'], file_count: 14 },
        { commit: '0000000b6fe961a42a631306577e622c83876cb6', refs: [], file_count: 14 }
      ],
      default_revision: '62bd457b6fe961a42a631306577e622c83876cb6',
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      torch_dtype: 'bfloat16',
      context_length: 8192,
      hidden_size: 4096,
      num_layers: 32,
      vocab_size: 128256,
      num_parameters: 8030261248,
      parameter_source: 'safetensors-index',
      files: []
    },
    dataset: null,
    files: {
      top_level: [],
      top_level_truncated: false,
      formats: { '.safetensors': 4, '.json': 6 },
      formats_exact: true,
      file_count: 15,
      dir_count: 5,
      size_bytes: 16060581715,
      disk_bytes: 147456
    },
    readme: '# Meta Llama 3',
    readme_path: null,
    readme_truncated: false,
    license_path: null,
    snippets,
    scanned_at: 1,
    ...over
  };
}

describe('catalog format', () => {
  it('formats sizes in powers of 1024 with one decimal below 100', () => {
    expect(formatBytes(null)).toBe('');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(16060581715)).toBe('15.0 GB');
    expect(formatBytes(146 * 1024 ** 3)).toBe('146 GB');
    expect(formatBytes(1024 ** 3 - 1)).toBe('1.0 GB');
    expect(formatBytes(1.5 * 1024 ** 4)).toBe('1.5 TB');
  });

  it('formats parameter counts like model cards', () => {
    expect(formatParams(8030261248)).toBe('8.0B');
    expect(formatParams(7248023552)).toBe('7.2B');
    expect(formatParams(108888576)).toBe('108.9M');
    expect(formatParams(999960000)).toBe('1.0B');
    expect(formatParams(1.2e12)).toBe('1.2T');
    expect(formatParams(66000)).toBe('66.0K');
    expect(formatParams(950)).toBe('950');
    expect(formatParams(null)).toBe('');
  });

  it('says "computing…" until the background scan knows the size', () => {
    expect(sizeLabel(entry())).toBe('computing…');
    expect(sizeLabel(entry({ size_status: 'error' }))).toBe('size unknown');
    expect(sizeLabel(entry({ size_bytes: 2048, size_status: 'ready' }))).toBe('2.0 KB');
    expect(filesLabel(entry())).toBe('computing…');
    expect(filesLabel(entry({ file_count: 1 }))).toBe('1 file');
    expect(filesLabel(entry({ file_count: 1281167 }))).toBe('1,281,167 files');
  });

  it('says what a row listed from its name alone is waiting for', () => {
    expect(detailsLabel(entry())).toBe('');
    expect(detailsLabel(entry({ details_status: 'pending' }))).toBe('reading details…');
    expect(detailsLabel(entry({ details_status: 'stalled' }))).toBe('not responding');
    expect(detailsLabel(entry({ details_status: 'error' }))).toBe('details unknown');
  });

  it('tells what the background is still doing, for the entries shown', () => {
    const fresh = entry({ details_status: 'pending', description: null, num_parameters: null });
    const busy = listing([fresh], { scanning: true, detecting: 1000, pending: 1000 });
    expect(scanMessage(busy, [fresh], false)).toBe('Reading details… 1,000 left · computing sizes… 1,000 left');
    const sized = entry({ size_bytes: 10, size_status: 'ready' });
    expect(scanMessage(listing([sized], { scanning: true, detecting: 0, pending: 3 }), [sized], false)).toBeNull();
    expect(scanMessage(listing([sized], { scanning: true, pending: 3 }), [sized], true)).toBe(
      'Computing sizes… 3 left (entries without a size yet are not shown)'
    );
    expect(scanMessage(listing([fresh], { scanning: false, detecting: 5 }), [fresh], false)).toBeNull();
  });

  it('splits org and name', () => {
    expect(splitName('meta-llama/Meta-Llama-3-8B')).toEqual(['meta-llama/', 'Meta-Llama-3-8B']);
    expect(splitName('imagenet')).toEqual(['', 'imagenet']);
  });

  it('builds queries from the search state, leaving out what is empty', () => {
    expect(buildQuery({})).toEqual({});
    expect(buildQuery({ search: '   ', tag: null })).toEqual({});
    expect(buildQuery({ search: '  llama   3 ', tag: 'llm ' })).toEqual({ q: 'llama 3', tag: 'llm' });
    expect(buildQuery({ kind: 'dataset', search: 'imagenet' })).toEqual({ kind: 'dataset', q: 'imagenet' });
    expect(queryKey(buildQuery({ search: 'llama ' }))).toBe(queryKey({ q: 'llama' }));
    expect(buildQuery({ size: 'medium' })).toEqual({ min_size: 1e9, max_size: 1e10 });
    expect(buildQuery({ size: 'huge', search: 'x' })).toEqual({ q: 'x', min_size: 1e11 });
    expect(buildQuery({ size: '' })).toEqual({});
    expect(queryKey(buildQuery({ size: 'small' }))).not.toBe(queryKey(buildQuery({})));
    expect(queryKey({ q: 'llama' })).not.toBe(queryKey({ tag: 'llama' }));
  });

  it('chooses the snippet a notebook cell gets', () => {
    expect(notebookSnippet(snippets)).toBe(snippets.python);
    expect(notebookSnippet(snippets, 'python')).toContain('HF_HUB_OFFLINE');
    expect(notebookSnippet(snippets, 'path')).toBe('data_path = "/scratch/shareddata/dldata/it\'s here"\n');
    expect(notebookSnippet(snippets, 'batch')).toMatch(/^%%bash\n/);
    expect(notebookSnippet({ ...snippets, python: '' })).toBe('data_path = "/scratch/shareddata/dldata/it\'s here"\n');
  });

  it('strips the YAML front matter of model cards', () => {
    expect(stripFrontMatter('---\nlicense: llama3\ntags:\n- llama\n---\n\n# Meta Llama 3\n')).toBe('# Meta Llama 3\n');
    expect(stripFrontMatter('# Title\n---\nnot front matter\n---\n')).toBe('# Title\n---\nnot front matter\n---\n');
  });

  it('lists the facts of a detail', () => {
    const facts: { [label: string]: string } = {};
    entryFacts(detail()).forEach(f => (facts[f.label] = f.value));
    expect(facts['Parameters']).toBe('8.0B');
    expect(facts['Context']).toBe('8,192 tokens');
    expect(facts['Size']).toBe('15.0 GB (144 KB on disk)');
    expect(facts['Files']).toBe('15 files in 5 folders');
    expect(facts['Revision']).toBe('main → 62bd457 (+1 older)');
    expect(facts['Formats']).toBe('.json ×6, .safetensors ×4');
    expect(facts['Citation']).toBe('Meta AI, 2024');
    const pending = entryFacts(
      detail({ size_bytes: null, size_status: 'pending', files: { ...detail().files, size_bytes: null } })
    );
    expect(pending.find(f => f.label === 'Size')?.value).toBe('computing…');
  });
});

describe('CatalogModel', () => {
  it('fills both tabs from one request and re-asks while sizes are computed', async () => {
    const queries: TritonAPI.ICatalogQuery[] = [];
    let scanning = true;
    const model = new CatalogModel({
      auto: false,
      active: true,
      fetchListing: async query => {
        queries.push(query);
        return listing(
          [entry(), entry({ id: 'dldata/imagenet', kind: 'dataset', name: 'imagenet', num_parameters: null })],
          { scanning, pending: scanning ? 2 : 0 }
        );
      },
      fetchEntry: async () => detail()
    });
    await model.refresh();
    expect(model.entries.map(e => e.name)).toEqual(['meta-llama/Meta-Llama-3-8B']);
    expect(model.count('dataset')).toBe(1);
    model.kind = 'dataset';
    expect(model.entries.map(e => e.name)).toEqual(['imagenet']);
    expect(queries).toEqual([{}]);
    expect(model.listing?.scanning).toBe(true);

    scanning = false;
    model.tag = 'llm';
    await model.refresh();
    expect(queries[queries.length - 1]).toEqual({ tag: 'llm' });
    expect(model.current).toBe(true);
    model.size = 'large';
    await model.refresh();
    expect(queries[queries.length - 1]).toEqual({ tag: 'llm', min_size: 1e10, max_size: 1e11 });
    model.dispose();
  });

  it('sends the search after typing pauses and drops answers to an older search', async () => {
    const queries: TritonAPI.ICatalogQuery[] = [];
    const model = new CatalogModel({
      auto: false,
      active: true,
      debounceMs: 10,
      fetchListing: async query => {
        queries.push(query);
        return listing([entry()]);
      }
    });
    await model.refresh();
    model.search = 'l';
    model.search = 'll';
    model.search = 'llama';
    expect(model.current).toBe(false);
    await new Promise(resolve => setTimeout(resolve, 60));
    await model.refresh();
    expect(queries.filter(q => q.q === 'l' || q.q === 'll')).toEqual([]);
    expect(queries[queries.length - 1]).toEqual({ q: 'llama' });
    expect(model.current).toBe(true);
    model.dispose();
  });

  it('opens an entry, keeps API errors readable, and goes back', async () => {
    let fail = false;
    const model = new CatalogModel({
      auto: false,
      active: true,
      fetchListing: async () => {
        if (fail) {
          throw new APIError('Catalog root is not readable', 500);
        }
        return listing([entry()]);
      },
      fetchEntry: async id => {
        if (id === 'dldata/missing') {
          throw new APIError('No catalog entry dldata/missing', 404);
        }
        return detail();
      }
    });
    await model.refresh();
    await model.open(entry().id);
    expect(model.detail?.snippets.python).toContain('HF_HUB_OFFLINE');
    expect(model.selectedEntry?.name).toBe('meta-llama/Meta-Llama-3-8B');

    await model.open('dldata/missing');
    expect(model.detail).toBeNull();
    expect(model.detailError?.message).toBe('No catalog entry dldata/missing');
    model.close();
    expect(model.selectedId).toBeNull();

    fail = true;
    await model.refresh();
    expect(model.error?.message).toBe('Catalog root is not readable');
    expect(model.entries).toHaveLength(1); // the last answer stays
    model.dispose();
  });

  it('asks nothing while the panel is hidden', async () => {
    let calls = 0;
    const model = new CatalogModel({
      auto: false,
      fetchListing: async () => {
        calls += 1;
        return listing([]);
      }
    });
    await model.refresh();
    expect(calls).toBe(0);
    model.active = true;
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(calls).toBe(1);
    model.dispose();
  });
});

describe('useInJob', () => {
  it('keeps the chosen entry and tells whoever listens', () => {
    const seen: string[] = [];
    const listener = (_: unknown, e: TritonAPI.ICatalogEntryDetail) => seen.push(e.id);
    useInJob.requested.connect(listener);
    useInJob.request(detail());
    expect(useInJob.last?.name).toBe('meta-llama/Meta-Llama-3-8B');
    expect(seen).toEqual([entry().id]);
    useInJob.requested.disconnect(listener);
  });
});

describe('jobSpecFor', () => {
  it('sets the offline Hugging Face environment and the snippet', () => {
    const spec = jobSpecFor({
      id: 'dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B',
      name: 'meta-llama/Meta-Llama-3-8B',
      path: '/scratch/shareddata/dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B',
      hf: { hf_home: '/scratch/shareddata/dldata/huggingface-hub-cache', hub_dir: 'x', repo_type: 'model' },
      snippets: { python: 'from transformers import AutoModel\n', batch: '', path: '' }
    } as unknown as TritonAPI.ICatalogEntryDetail);
    expect(spec.name).toBe('use-Meta-Llama-3-8B');
    expect(spec.env).toEqual({
      HF_HOME: '/scratch/shareddata/dldata/huggingface-hub-cache',
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1'
    });
    expect(spec.code).toContain('AutoModel');
  });
  it('points DATA_PATH at a plain dataset folder', () => {
    const spec = jobSpecFor({
      id: 'dldata/imagenet',
      name: 'imagenet (ILSVRC 2012)',
      path: '/d/imagenet',
      hf: null,
      snippets: { python: 'p = 1\n', batch: '', path: '/d/imagenet' }
    } as unknown as TritonAPI.ICatalogEntryDetail);
    expect(spec.env).toEqual({ DATA_PATH: '/d/imagenet' });
    expect(spec.name).toBe('use-imagenet-ILSVRC-2012-');
  });
});

describe('readmeImagePath', () => {
  it('keeps relative image paths below the README and refuses the rest', () => {
    expect(readmeImagePath('docs/arch.png')).toBe('docs/arch.png');
    expect(readmeImagePath('./docs/my%20plot.SVG?raw=1')).toBe('docs/my plot.SVG');
    for (const url of [
      'https://huggingface.co/x.png',
      'data:image/png;base64,AAAA',
      '/files/x.png',
      '#anchor',
      '../x.png',
      'docs//x.png',
      'LICENSE',
      'notes.md',
      ''
    ]) {
      expect(readmeImagePath(url)).toBeNull();
    }
  });
});
