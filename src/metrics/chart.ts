/**
 * Time-series charts of a job's samples in plain SVG: GPU utilisation, GPU memory (used vs the
 * card), power, CPU cores and resident memory; one line per GPU (or per node for CPU and RAM).
 * A plain DOM class, so the React job detail and the notebook widget's view both use it.
 *
 * Drawing is cheap but not free: new data only marks the charts dirty, and they are redrawn at
 * most once per animation frame, and only while on screen (IntersectionObserver).
 *
 * One class of over 400 lines on purpose: drawing, hover and tooltip share each panel's scales and
 * elements; what is pure (the series from samples, scales and ticks) lives in series.ts and axes.ts.
 */
import { formatClock, linearScale, linePath, nearestIndex, timeTicks, valueAxis } from './axes';
import {
  hasGpus,
  hasSamples,
  INodeSeries,
  IReference,
  ISeries,
  METRICS,
  MetricKind,
  formatNumber,
  formatValue,
  seriesFor
} from './series';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The shortest time span shown, so the first seconds of a job do not fill the whole width. */
const MIN_SPAN = 60;

export interface IMetricsChartsOptions {
  /** Two small charts (utilisation and memory, or CPU and RAM), no legend: the notebook widget. */
  compact?: boolean;
  /** What to show while there are no samples (empty: nothing). */
  emptyText?: string;
}

interface IPanel {
  kind: MetricKind;
  unit: HTMLSpanElement;
  root: HTMLDivElement;
  now: HTMLSpanElement;
  legend: HTMLDivElement;
  body: HTMLDivElement;
  svg: SVGSVGElement;
  tooltip: HTMLDivElement;
  /** What the last render drew, for the tooltip. */
  drawn: {
    series: ISeries[];
    unit: string;
    x: (t: number) => number;
    y: (v: number) => number;
    t0: number;
    t1: number;
    left: number;
    right: number;
    top: number;
    bottom: number;
    step: number;
  } | null;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: { [name: string]: string | number },
  parent?: Element
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag) as SVGElementTagNameMap[K];
  for (const [name, value] of Object.entries(attrs)) {
    node.setAttribute(name, String(value));
  }
  parent?.appendChild(node);
  return node;
}

function html<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  parent?: Element
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  parent?.appendChild(node);
  return node;
}

export class MetricsCharts {
  readonly node: HTMLDivElement;

  constructor(options: IMetricsChartsOptions = {}) {
    this._compact = !!options.compact;
    this._emptyText = options.emptyText ?? '';
    this.node = html('div', `tml-Metrics${this._compact ? ' tml-Metrics--compact' : ''}`);
    this._legend = html('div', 'tml-Metrics-legend', this.node);
    this._grid = html('div', 'tml-Metrics-grid', this.node);
    this._empty = html('p', 'tml-muted tml-Metrics-empty', this.node);
    if (typeof IntersectionObserver !== 'undefined') {
      this._visible = false;
      this._intersection = new IntersectionObserver(entries => {
        this._visible = entries.some(e => e.isIntersecting);
        if (this._visible && this._dirty) {
          this._schedule();
        }
      });
      this._intersection.observe(this.node);
    }
    if (typeof ResizeObserver !== 'undefined') {
      this._resize = new ResizeObserver(entries => {
        const width = Math.round(entries[entries.length - 1]?.contentRect.width ?? 0);
        if (width !== this._width) {
          this._width = width;
          this.invalidate();
        }
      });
      this._resize.observe(this.node);
    }
  }

  /** The series to draw (the same array may be passed again after it changed). */
  setData(nodes: INodeSeries[]): void {
    this._nodes = nodes;
    this.invalidate();
  }

  /** Redraw at the next animation frame (if on screen). */
  invalidate(): void {
    this._dirty = true;
    this._schedule();
  }

  /** Draw now (tests, and the animation frame). */
  render(): void {
    this._dirty = false;
    const nodes = this._nodes;
    const gpus = hasGpus(nodes);
    const kinds: MetricKind[] = this._compact
      ? gpus
        ? ['util', 'memory']
        : ['cpu', 'ram']
      : gpus
        ? ['util', 'memory', 'power', 'cpu', 'ram']
        : ['cpu', 'ram'];
    const any = hasSamples(nodes);
    this.node.dataset.gpus = String(gpus);
    this._empty.textContent = any ? '' : this._emptyText;
    this._empty.hidden = any || !this._emptyText;
    this._grid.hidden = !any;
    this._legend.hidden = !any || !gpus || this._compact;
    if (!any) {
      return;
    }
    this._ensurePanels(kinds);

    // One time axis for every chart, so they line up.
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const node of nodes) {
      const s = node.samples;
      if (s.length) {
        t0 = Math.min(t0, s[0].t);
        t1 = Math.max(t1, s[s.length - 1].t + (s[s.length - 1].d ?? 0));
      }
    }
    t1 = Math.max(t1, t0 + MIN_SPAN);

    let legendDone = false;
    for (const panel of this._panels) {
      const { series, references, unit } = seriesFor(panel.kind, nodes);
      this._draw(panel, series, references, unit, t0, t1);
      if (!legendDone && METRICS[panel.kind].gpu) {
        this._drawLegend(this._legend, series);
        legendDone = true;
      }
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._intersection?.disconnect();
    this._resize?.disconnect();
    if (this._frame !== null) {
      if (typeof cancelAnimationFrame !== 'undefined') {
        cancelAnimationFrame(this._frame as number);
      } else {
        clearTimeout(this._frame as ReturnType<typeof setTimeout>);
      }
      this._frame = null;
    }
    this.node.remove();
  }

  private _schedule(): void {
    if (this._disposed || this._frame !== null || !this._visible) {
      return;
    }
    const run = () => {
      this._frame = null;
      if (!this._disposed && this._dirty) {
        this.render();
      }
    };
    this._frame = typeof requestAnimationFrame !== 'undefined' ? requestAnimationFrame(run) : setTimeout(run, 16);
  }

  private _ensurePanels(kinds: MetricKind[]): void {
    if (this._panels.length === kinds.length && this._panels.every((p, i) => p.kind === kinds[i])) {
      return;
    }
    this._grid.textContent = '';
    this._panels = kinds.map(kind => {
      const def = METRICS[kind];
      const root = html('div', 'tml-MetricsChart', this._grid);
      root.dataset.metric = kind;
      const head = html('div', 'tml-MetricsChart-head', root);
      const title = html('span', 'tml-MetricsChart-title', head);
      title.textContent = def.title;
      const unit = html('span', 'tml-MetricsChart-unit', head);
      unit.textContent = def.unit;
      const now = html('span', 'tml-MetricsChart-now', head);
      const legend = html('div', 'tml-MetricsChart-legend', root);
      const body = html('div', 'tml-MetricsChart-body', root);
      const plot = svg('svg', { class: 'tml-MetricsChart-svg', role: 'img' }, body);
      plot.setAttribute('aria-label', `${def.title} (${def.unit}) over time`);
      const tooltip = html('div', 'tml-MetricsChart-tooltip', body);
      tooltip.hidden = true;
      const panel: IPanel = { kind, unit, root, now, legend, body, svg: plot, tooltip, drawn: null };
      body.addEventListener('mousemove', event => this._hover(panel, event));
      body.addEventListener('mouseleave', () => this._unhover(panel));
      return panel;
    });
  }

  private _draw(
    panel: IPanel,
    series: ISeries[],
    references: IReference[],
    unit: string,
    t0: number,
    t1: number
  ): void {
    const compact = this._compact;
    const def = METRICS[panel.kind];
    const width = Math.max(120, Math.round(panel.body.clientWidth || (compact ? 200 : 320)));
    const height = compact ? 64 : 120;
    panel.unit.textContent = unit;
    panel.svg.setAttribute('aria-label', `${def.title} (${unit}) over time`);
    const left = compact ? 30 : 38;
    const right = width - 6;
    const top = 6;
    const bottom = height - 16;

    // The value axis: utilisation is always 0-100 %; the rest from 0 to the largest value or reference.
    let max = 0;
    for (const s of series) {
      for (let i = 0; i < s.v.length; i++) {
        const value = s.v[i];
        if (value !== null && value > max) {
          max = value;
        }
      }
    }
    for (const ref of references) {
      max = Math.max(max, ref.value);
    }
    const axis =
      panel.kind === 'util'
        ? { min: 0, max: 100, ticks: compact ? [0, 100] : [0, 25, 50, 75, 100] }
        : valueAxis(0, panel.kind === 'cpu' ? Math.max(max, 1) : max > 0 ? max : 1, compact ? 1 : 4);
    const x = linearScale(t0, t1, left, right);
    const y = linearScale(axis.min, axis.max, bottom, top);
    const time = timeTicks(t0, t1, Math.max(2, Math.floor((right - left) / 80)));

    const root = panel.svg;
    root.textContent = '';
    root.setAttribute('width', String(width));
    root.setAttribute('height', String(height));
    root.setAttribute('viewBox', `0 0 ${width} ${height}`);

    const grid = svg('g', { class: 'tml-MetricsChart-grid' }, root);
    for (const v of axis.ticks) {
      const py = Math.round(y(v)) + 0.5;
      svg('line', { x1: left, x2: right, y1: py, y2: py }, grid);
      const label = svg('text', { x: left - 4, y: py, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, grid);
      label.textContent = formatNumber(v);
    }
    const labels = svg('g', { class: 'tml-MetricsChart-axis' }, root);
    for (const t of time.ticks) {
      const px = Math.round(x(t)) + 0.5;
      svg('line', { x1: px, x2: px, y1: bottom, y2: bottom + 3 }, labels);
      const text = formatClock(t, time.step);
      // Skip labels that would run over the edges.
      if (px - 22 < left - 8 || px + 22 > width) {
        continue;
      }
      const label = svg('text', { x: px, y: height - 3, 'text-anchor': 'middle' }, labels);
      label.textContent = text;
    }
    svg(
      'line',
      { class: 'tml-MetricsChart-baseline', x1: left, x2: right, y1: bottom + 0.5, y2: bottom + 0.5 },
      labels
    );

    for (const ref of references) {
      const py = Math.round(y(ref.value)) + 0.5;
      const line = svg(
        'line',
        { class: `tml-MetricsChart-ref tml-MetricsSeries--c${ref.color % 8}`, x1: left, x2: right, y1: py, y2: py },
        root
      );
      const title = svg('title', {}, line);
      title.textContent = `${ref.label}: ${formatValue(ref.value, unit)}`;
    }

    const lines = svg('g', { class: 'tml-MetricsChart-lines' }, root);
    for (const s of series) {
      let points = 0;
      let smax = -Infinity;
      for (const value of s.v) {
        if (value !== null) {
          points++;
          smax = Math.max(smax, value);
        }
      }
      svg(
        'path',
        {
          class: `tml-MetricsChart-line tml-MetricsSeries--c${s.color % 8}`,
          d: linePath(s, x, y),
          'data-series': s.key,
          'data-points': points,
          'data-max': points ? Number(smax.toFixed(2)) : ''
        },
        lines
      );
    }
    svg('line', { class: 'tml-MetricsChart-cursor', x1: 0, x2: 0, y1: top, y2: bottom, visibility: 'hidden' }, root);

    // The latest value, next to the title (the sum over series for CPU and RAM of several nodes).
    const latest = series
      .map(s => {
        for (let i = s.v.length - 1; i >= 0; i--) {
          if (s.v[i] !== null) {
            return s.v[i] as number;
          }
        }
        return null;
      })
      .filter((v): v is number => v !== null);
    panel.now.textContent = latest.length === 1 ? formatValue(latest[0], unit) : '';
    panel.root.dataset.series = String(series.length);
    if (!def.gpu && series.length > 1) {
      this._drawLegend(panel.legend, series);
    } else {
      panel.legend.textContent = '';
    }
    panel.drawn = { series, unit, x, y, t0, t1, left, right, top, bottom, step: time.step };
    if (this._hovered?.panel === panel) {
      this._showTooltip(panel, this._hovered.px);
    }
  }

  private _drawLegend(legend: HTMLElement, series: ISeries[]): void {
    legend.textContent = '';
    for (const s of series) {
      const item = html('span', 'tml-Metrics-legendItem', legend);
      html('span', `tml-Metrics-swatch tml-MetricsSeries--c${s.color % 8}`, item);
      const label = html('span', '', item);
      label.textContent = s.label;
    }
  }

  private _hover(panel: IPanel, event: MouseEvent): void {
    const rect = panel.svg.getBoundingClientRect();
    const px = event.clientX - rect.left;
    this._hovered = { panel, px };
    this._showTooltip(panel, px);
  }

  private _unhover(panel: IPanel): void {
    this._hovered = null;
    panel.tooltip.hidden = true;
    panel.svg.querySelector('.tml-MetricsChart-cursor')?.setAttribute('visibility', 'hidden');
  }

  /** The values of every line at the time under the pointer. */
  private _showTooltip(panel: IPanel, px: number): void {
    const drawn = panel.drawn;
    const cursor = panel.svg.querySelector('.tml-MetricsChart-cursor');
    if (!drawn || px < drawn.left || px > drawn.right) {
      panel.tooltip.hidden = true;
      cursor?.setAttribute('visibility', 'hidden');
      return;
    }
    const format = (value: number) => formatValue(value, drawn.unit);
    const t = drawn.t0 + ((px - drawn.left) / (drawn.right - drawn.left)) * (drawn.t1 - drawn.t0);
    const rows: { s: ISeries; value: number; max: number | null }[] = [];
    let at: number | null = null;
    // A little slack, so pointing just past the newest point still shows it.
    const slack = (drawn.t1 - drawn.t0) / 40;
    for (const s of drawn.series) {
      const i = nearestIndex(s.t, t);
      if (i < 0 || Math.abs(s.t[i] - t) > Math.max(s.gaps[i], slack)) {
        continue;
      }
      const value = s.v[i];
      if (value === null) {
        continue;
      }
      at = at === null || Math.abs(s.t[i] - t) < Math.abs(at - t) ? s.t[i] : at;
      const max = s.vmax?.[i] ?? null;
      rows.push({ s, value, max: max !== null && max > value + 0.5 ? max : null });
    }
    if (at === null) {
      panel.tooltip.hidden = true;
      cursor?.setAttribute('visibility', 'hidden');
      return;
    }
    const cx = Math.round(drawn.x(at)) + 0.5;
    cursor?.setAttribute('x1', String(cx));
    cursor?.setAttribute('x2', String(cx));
    cursor?.setAttribute('visibility', 'visible');
    const tip = panel.tooltip;
    tip.textContent = '';
    const head = html('div', 'tml-MetricsChart-tooltipTime', tip);
    head.textContent = formatClock(at, 1);
    for (const row of rows) {
      const line = html('div', 'tml-MetricsChart-tooltipRow', tip);
      html('span', `tml-Metrics-swatch tml-MetricsSeries--c${row.s.color % 8}`, line);
      const label = html('span', 'tml-MetricsChart-tooltipLabel', line);
      label.textContent = row.s.label;
      const value = html('span', 'tml-MetricsChart-tooltipValue', line);
      value.textContent = format(row.value) + (row.max !== null ? ` (max ${format(row.max)})` : '');
    }
    tip.hidden = false;
    // Left of the pointer on the right half, right of it on the left half.
    const onRight = cx > (drawn.left + drawn.right) / 2;
    tip.style.left = onRight ? '' : `${cx + 8}px`;
    tip.style.right = onRight ? `${Math.max(0, panel.body.clientWidth - cx + 8)}px` : '';
  }

  private _compact: boolean;
  private _emptyText: string;
  private _legend: HTMLDivElement;
  private _grid: HTMLDivElement;
  private _empty: HTMLParagraphElement;
  private _panels: IPanel[] = [];
  private _nodes: INodeSeries[] = [];
  private _dirty = false;
  private _visible = true;
  private _disposed = false;
  private _frame: number | ReturnType<typeof setTimeout> | null = null;
  private _intersection: IntersectionObserver | null = null;
  private _resize: ResizeObserver | null = null;
  private _hovered: { panel: IPanel; px: number } | null = null;
  private _width = -1;
}
