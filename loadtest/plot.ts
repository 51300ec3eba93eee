/**
 * Dependency-free SVG chart for the load-test report.
 *
 * `renderPlot()` returns one standalone SVG document (960 px wide, 640 px
 * high unless a long legend needs more) with two panels side by side:
 *
 * 1. intent latency p50 / p95 / p99 (ms) against concurrent calls: one colour
 *    per scenario, one dash style and marker shape per percentile, the
 *    transcript lag p50 as a thin line when measured, and dashed horizontal
 *    target lines when targets are given;
 * 2. gateway CPU (cores, left axis, solid) and peak RSS (MB, right axis,
 *    dashed) against concurrent calls, with an optional CPU target line.
 *
 * Steps without a value (no intents measured, non-finite numbers) break the
 * line rather than drop to zero; a one-point run shows as a marker. Every
 * marker carries a `<title>` with its exact value (a tooltip in browsers).
 * No fonts, scripts or external references: text is `sans-serif`.
 */

export interface PlotStep {
  /** Concurrent calls (x axis). */
  readonly concurrency: number;
  /** Absent when no intents were measured. */
  readonly intentLatencyMs?: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly transcriptLagMs?: { readonly p50: number; readonly p95: number };
  /** Mean gateway CPU in cores (1.0 = one core busy). */
  readonly cpuCores: number;
  /** Peak gateway RSS in MB. */
  readonly rssMb: number;
}

/** One per scenario. */
export interface PlotSeries {
  readonly label: string;
  readonly steps: readonly PlotStep[];
}

export interface PlotTargets {
  readonly latencyP50Ms?: number;
  readonly latencyP95Ms?: number;
  readonly cpuCores?: number;
}

export interface PlotOptions {
  readonly targets?: PlotTargets;
}

const WIDTH = 960;
const BASE_HEIGHT = 640;
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;
const INK = '#222';
const MUTED = '#666';
const GRID = '#e3e3e3';
const TARGET = '#555';
const MAX_LABEL_CHARS = 60;

/* Plot areas (pixels). */
const TOP = 72;
const BOTTOM = 462;
const LEFT_PANEL = { left: 72, right: 440 } as const;
const RIGHT_PANEL = { left: 560, right: 880 } as const;
const LEGEND_TOP = 532;
/** Data sit this far inside the frame, so points on an axis bound (zeros, the top step) stay visible. */
const INSET = 10;
const LEGEND_ROW = 22;

type Percentile = 'p50' | 'p95' | 'p99';
type Marker = 'circle' | 'square' | 'triangle' | 'ring' | 'box' | 'none';

interface LineStyle {
  readonly dash?: string;
  readonly width: number;
  readonly marker: Marker;
  readonly opacity?: number;
}

const PERCENTILE_STYLE: Record<Percentile, LineStyle> = {
  p50: { width: 2, marker: 'circle' },
  p95: { width: 2, dash: '7 4', marker: 'square' },
  p99: { width: 2, dash: '2 3', marker: 'triangle' },
};
const LAG_STYLE: LineStyle = { width: 1.25, marker: 'ring', opacity: 0.75 };
const CPU_STYLE: LineStyle = { width: 2, marker: 'circle' };
const RSS_STYLE: LineStyle = { width: 2, dash: '6 3', marker: 'box' };
const TARGET_DASH = '8 4';
/** A white outline behind text drawn over data lines. */
const HALO = { stroke: '#fff', 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' } as const;

/* ------------------------------------------------------------------ */
/* Numbers                                                              */
/* ------------------------------------------------------------------ */

/**
 * Axis ticks at a "nice" step (1, 2 or 5 × 10^n) chosen so that about
 * `count` intervals cover [min, max]. The first tick is ≤ min and the last
 * ≥ max (the range is rounded outwards); arguments may come in either order.
 * A zero-width range is widened (0 → [0, 1], v → v ± |v|/2), so the result
 * always has at least two ticks. Values are rounded to the step's decimals
 * (0.6, not 0.6000000000000001). Throws on non-finite bounds.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`niceTicks: bounds must be finite (got ${min}, ${max})`);
  const intervals = Number.isFinite(count) ? Math.max(1, Math.round(count)) : 5;
  let lo = Math.min(min, max);
  let hi = Math.max(min, max);
  if (lo === hi) {
    if (lo === 0) hi = 1;
    else {
      const pad = Math.abs(lo) / 2;
      lo -= pad;
      hi += pad;
    }
  }
  const span = hi - lo;
  if (!Number.isFinite(span)) return [lo, hi];
  const raw = span / intervals;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const factor = norm >= Math.sqrt(50) ? 10 : norm >= Math.sqrt(10) ? 5 : norm >= Math.SQRT2 ? 2 : 1;
  const step = factor * magnitude;
  // A little slack so that a bound sitting on a tick (up to float noise) is not pushed a whole step out.
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) {
    const value = decimals <= 20 ? Number((i * step).toFixed(decimals)) : i * step;
    ticks.push(value === 0 ? 0 : value); // no -0
  }
  if (ticks.length < 2) ticks.push(Number(((last + 1) * step).toFixed(Math.min(decimals, 20))));
  return ticks;
}

/**
 * Compact number text: 0, 0.25, 3.14, 42, 950, 1234, 12.5k, 3.2M. At most
 * three significant digits below 100, whole numbers from 100 to 9999, then
 * k / M suffixes.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  if (abs >= 1e9) return `${sign}${trim(abs / 1e9, 1)}G`;
  if (abs >= 1e6) return `${sign}${trim(abs / 1e6, 1)}M`;
  if (abs >= 1e4) return `${sign}${trim(abs / 1e3, 1)}k`;
  if (abs >= 100) return `${sign}${Math.round(abs)}`;
  const text = String(Number(abs.toPrecision(3)));
  return text === '0' ? '0' : `${sign}${text}`;
}

function trim(value: number, decimals: number): string {
  return String(Number(value.toFixed(decimals)));
}

/** Pixel coordinates: two decimals at most. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function finite(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/* ------------------------------------------------------------------ */
/* XML                                                                  */
/* ------------------------------------------------------------------ */

/** Escapes text for XML content and attribute values; drops characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

type Attrs = Readonly<Record<string, string | number | undefined>>;

function attrs(values: Attrs): string {
  let out = '';
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    out += ` ${name}="${typeof value === 'number' ? px(value) : escapeXml(value)}"`;
  }
  return out;
}

/** An element; `children` is already-serialised markup. Empty children → self-closing. */
function el(name: string, values: Attrs, children = ''): string {
  return children === '' ? `<${name}${attrs(values)}/>` : `<${name}${attrs(values)}>${children}</${name}>`;
}

function text(x: number, y: number, content: string, values: Attrs = {}): string {
  return el('text', { x, y, ...values }, escapeXml(content));
}

function shortLabel(label: string): string {
  const chars = [...label];
  return chars.length <= MAX_LABEL_CHARS ? label : `${chars.slice(0, MAX_LABEL_CHARS - 1).join('')}…`;
}

/* ------------------------------------------------------------------ */
/* Scales and axes                                                      */
/* ------------------------------------------------------------------ */

interface Scale {
  readonly ticks: readonly number[];
  map(value: number): number;
}

/**
 * Linear scale over the data (zero always included), rounded out to nice
 * ticks. `pixelStart` is where the lowest tick lands (bottom for y axes).
 */
function linearScale(values: readonly number[], pixelStart: number, pixelEnd: number, count: number, integer = false): Scale {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  let ticks = niceTicks(lo, hi, count);
  if (integer && ticks.length > 1 && (ticks[1] ?? 0) - (ticks[0] ?? 0) < 1) {
    const from = Math.floor(lo);
    const to = Math.max(Math.ceil(hi), from + 1);
    ticks = [];
    for (let i = from; i <= to; i++) ticks.push(i);
  }
  const min = ticks[0] ?? 0;
  const max = ticks[ticks.length - 1] ?? 1;
  const span = max - min || 1;
  return { ticks, map: (value) => pixelStart + ((value - min) / span) * (pixelEnd - pixelStart) };
}

interface Panel {
  readonly left: number;
  readonly right: number;
}

function frame(panel: Panel, x: Scale, y: Scale, title: string, yLabel: string): string {
  const parts: string[] = [];
  parts.push(el('rect', { x: panel.left, y: TOP, width: panel.right - panel.left, height: BOTTOM - TOP, fill: '#fff', stroke: 'none' }));
  for (const t of y.ticks) {
    const py = y.map(t);
    parts.push(el('line', { x1: panel.left, y1: py, x2: panel.right, y2: py, stroke: GRID, 'stroke-width': 1 }));
    parts.push(el('line', { x1: panel.left - 4, y1: py, x2: panel.left, y2: py, stroke: INK, 'stroke-width': 1 }));
    parts.push(text(panel.left - 7, py + 4, formatNumber(t), { 'text-anchor': 'end', 'font-size': 11, fill: INK }));
  }
  for (const t of x.ticks) {
    const pxv = x.map(t);
    parts.push(el('line', { x1: pxv, y1: TOP, x2: pxv, y2: BOTTOM, stroke: GRID, 'stroke-width': 1 }));
    parts.push(el('line', { x1: pxv, y1: BOTTOM, x2: pxv, y2: BOTTOM + 4, stroke: INK, 'stroke-width': 1 }));
    parts.push(text(pxv, BOTTOM + 17, formatNumber(t), { 'text-anchor': 'middle', 'font-size': 11, fill: INK }));
  }
  parts.push(el('rect', { x: panel.left, y: TOP, width: panel.right - panel.left, height: BOTTOM - TOP, fill: 'none', stroke: INK, 'stroke-width': 1 }));
  parts.push(text((panel.left + panel.right) / 2, TOP - 12, title, { 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold', fill: INK }));
  parts.push(text((panel.left + panel.right) / 2, BOTTOM + 38, 'concurrent calls', { 'text-anchor': 'middle', 'font-size': 12, fill: INK }));
  parts.push(yTitle(panel.left - 48, yLabel));
  return parts.join('');
}

function yTitle(x: number, label: string): string {
  const y = (TOP + BOTTOM) / 2;
  return text(x, y, label, { 'text-anchor': 'middle', 'font-size': 12, fill: INK, transform: `rotate(-90 ${px(x)} ${px(y)})` });
}

/* ------------------------------------------------------------------ */
/* Lines and markers                                                    */
/* ------------------------------------------------------------------ */

interface Point {
  readonly x: number;
  readonly y: number;
  readonly tip: string;
}

function marker(kind: Marker, x: number, y: number, color: string, tip?: string): string {
  const title = tip === undefined ? '' : el('title', {}, escapeXml(tip));
  switch (kind) {
    case 'none':
      return '';
    case 'circle':
      return el('circle', { cx: x, cy: y, r: 3.5, fill: color, stroke: '#fff', 'stroke-width': 0.8 }, title);
    case 'ring':
      return el('circle', { cx: x, cy: y, r: 2.5, fill: '#fff', stroke: color, 'stroke-width': 1.2 }, title);
    case 'square':
      return el('rect', { x: x - 3.2, y: y - 3.2, width: 6.4, height: 6.4, fill: color, stroke: '#fff', 'stroke-width': 0.8 }, title);
    case 'box':
      return el('rect', { x: x - 3.2, y: y - 3.2, width: 6.4, height: 6.4, fill: '#fff', stroke: color, 'stroke-width': 1.5 }, title);
    case 'triangle':
      return el('path', { d: `M${px(x)} ${px(y - 4.5)}L${px(x + 4.2)} ${px(y + 3)}L${px(x - 4.2)} ${px(y + 3)}Z`, fill: color, stroke: '#fff', 'stroke-width': 0.8 }, title);
  }
}

/** A line through the points, broken at `null`s, with a marker on every point. Empty when there are no points. */
function line(points: readonly (Point | null)[], color: string, style: LineStyle, className: string, seriesLabel: string): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px(p.x)} ${px(p.y)}`;
    pen = true;
  }
  if (d === '') return '';
  const path = el('path', {
    class: className,
    'data-series': seriesLabel,
    d,
    fill: 'none',
    stroke: color,
    'stroke-width': style.width,
    'stroke-dasharray': style.dash,
    'stroke-linejoin': 'round',
    'stroke-linecap': 'round',
    'stroke-opacity': style.opacity,
  });
  const markers = points.map((p) => (p === null ? '' : marker(style.marker, p.x, p.y, color, p.tip))).join('');
  return el('g', { class: `${className}-series` }, path + markers);
}

function horizontalTarget(panel: Panel, y: number, label: string): string {
  return (
    el('line', { class: 'target', x1: panel.left, y1: y, x2: panel.right, y2: y, stroke: TARGET, 'stroke-width': 1.25, 'stroke-dasharray': TARGET_DASH }) +
    text(panel.left + 6, y - 5, label, { 'text-anchor': 'start', 'font-size': 10, fill: TARGET, ...HALO })
  );
}

function emptyNote(panel: Panel, message: string): string {
  return text((panel.left + panel.right) / 2, (TOP + BOTTOM) / 2, message, { 'text-anchor': 'middle', 'font-size': 13, fill: MUTED, 'font-style': 'italic', ...HALO });
}

/* ------------------------------------------------------------------ */
/* Legend                                                               */
/* ------------------------------------------------------------------ */

interface LegendItem {
  readonly label: string;
  readonly color: string;
  /** Undefined: a filled colour swatch (scenario). */
  readonly style?: LineStyle;
}

/** Rough text width at 12 px sans-serif (there are no font metrics without a renderer). */
function textWidth(label: string, fontSize = 12): number {
  return [...label].length * fontSize * 0.56;
}

/** Lays the rows out left to right, wrapping at the right margin; returns markup and the y below the last row. */
function legend(rows: readonly { readonly heading: string; readonly items: readonly LegendItem[] }[], top: number): { markup: string; bottom: number } {
  const parts: string[] = [];
  const left = 24;
  const right = WIDTH - 24;
  const itemsLeft = left + 78;
  let y = top;
  for (const row of rows) {
    if (row.items.length === 0) continue;
    parts.push(text(left, y + 4, row.heading, { 'font-size': 12, 'font-weight': 'bold', fill: INK }));
    let x = itemsLeft;
    for (const item of row.items) {
      const sample = item.style === undefined ? 14 : 30;
      const width = sample + 6 + textWidth(item.label) + 18;
      if (x > itemsLeft && x + width > right) {
        x = itemsLeft;
        y += LEGEND_ROW;
      }
      if (item.style === undefined) {
        parts.push(el('rect', { x, y: y - 5, width: 14, height: 10, rx: 2, fill: item.color }));
      } else {
        parts.push(el('line', { x1: x, y1: y, x2: x + 30, y2: y, stroke: item.color, 'stroke-width': item.style.width, 'stroke-dasharray': item.style.dash, 'stroke-opacity': item.style.opacity }));
        parts.push(marker(item.style.marker, x + 15, y, item.color));
      }
      parts.push(text(x + sample + 6, y + 4, item.label, { 'font-size': 12, fill: INK }));
      x += width;
    }
    y += LEGEND_ROW;
  }
  return { markup: el('g', { class: 'legend' }, parts.join('')), bottom: y };
}

/* ------------------------------------------------------------------ */
/* The chart                                                            */
/* ------------------------------------------------------------------ */

/** The SVG document text for the load-test chart. */
export function renderPlot(title: string, series: readonly PlotSeries[], options: PlotOptions = {}): string {
  const targets = options.targets ?? {};
  const colored = series.map((s, i) => ({
    label: shortLabel(s.label),
    color: PALETTE[i % PALETTE.length] ?? INK,
    steps: [...s.steps].filter((step) => Number.isFinite(step.concurrency)).sort((a, b) => a.concurrency - b.concurrency),
  }));
  const allSteps = colored.flatMap((s) => s.steps);
  const x = (panel: Panel): Scale => linearScale(allSteps.map((s) => s.concurrency), panel.left + INSET, panel.right - INSET, 6, true);

  /* Panel 1: latency. */
  const latencyValues: number[] = [];
  let anyLatency = false;
  let anyLag = false;
  for (const step of allSteps) {
    const l = step.intentLatencyMs;
    if (l !== undefined) {
      for (const v of [l.p50, l.p95, l.p99]) {
        if (finite(v)) {
          latencyValues.push(v);
          anyLatency = true;
        }
      }
    }
    if (finite(step.transcriptLagMs?.p50)) {
      latencyValues.push(step.transcriptLagMs.p50);
      anyLag = true;
    }
  }
  const latencyTargets: { readonly value: number; readonly label: string }[] = [];
  if (finite(targets.latencyP50Ms)) latencyTargets.push({ value: targets.latencyP50Ms, label: `p50 target ${formatNumber(targets.latencyP50Ms)} ms` });
  if (finite(targets.latencyP95Ms)) latencyTargets.push({ value: targets.latencyP95Ms, label: `p95 target ${formatNumber(targets.latencyP95Ms)} ms` });
  const xLat = x(LEFT_PANEL);
  const yLat = linearScale([...latencyValues, ...latencyTargets.map((t) => t.value)], BOTTOM - INSET, TOP + INSET, 6);

  const latencyParts: string[] = [frame(LEFT_PANEL, xLat, yLat, 'Intent latency', 'latency (ms)')];
  for (const t of latencyTargets) latencyParts.push(horizontalTarget(LEFT_PANEL, yLat.map(t.value), t.label));
  for (const s of colored) {
    if (anyLag) {
      const lag = s.steps.map((step): Point | null => {
        const v = step.transcriptLagMs?.p50;
        return finite(v) ? { x: xLat.map(step.concurrency), y: yLat.map(v), tip: `${s.label}: transcript lag p50 ${formatNumber(v)} ms at ${formatNumber(step.concurrency)} calls` } : null;
      });
      latencyParts.push(line(lag, s.color, LAG_STYLE, 'lag-p50', s.label));
    }
    for (const pct of ['p99', 'p95', 'p50'] as const) {
      const points = s.steps.map((step): Point | null => {
        const v = step.intentLatencyMs?.[pct];
        return finite(v) ? { x: xLat.map(step.concurrency), y: yLat.map(v), tip: `${s.label}: intent latency ${pct} ${formatNumber(v)} ms at ${formatNumber(step.concurrency)} calls` } : null;
      });
      latencyParts.push(line(points, s.color, PERCENTILE_STYLE[pct], `lat-${pct}`, s.label));
    }
  }
  if (!anyLatency) latencyParts.push(emptyNote(LEFT_PANEL, anyLag ? 'no intents measured (transcript lag only)' : 'no intent latency measured'));

  /* Panel 2: CPU (left axis) and RSS (right axis). */
  const cpuTarget = finite(targets.cpuCores) ? targets.cpuCores : undefined;
  const xRes = x(RIGHT_PANEL);
  const yCpu = linearScale([...allSteps.map((s) => s.cpuCores), ...(cpuTarget === undefined ? [] : [cpuTarget])], BOTTOM - INSET, TOP + INSET, 6);
  const yRss = linearScale(allSteps.map((s) => s.rssMb), BOTTOM - INSET, TOP + INSET, 6);
  const resourceParts: string[] = [frame(RIGHT_PANEL, xRes, yCpu, 'Gateway CPU and peak RSS', 'CPU (cores)')];
  for (const t of yRss.ticks) {
    const py = yRss.map(t);
    resourceParts.push(el('line', { x1: RIGHT_PANEL.right, y1: py, x2: RIGHT_PANEL.right + 4, y2: py, stroke: INK, 'stroke-width': 1 }));
    resourceParts.push(text(RIGHT_PANEL.right + 7, py + 4, formatNumber(t), { 'text-anchor': 'start', 'font-size': 11, fill: INK }));
  }
  resourceParts.push(yTitle(RIGHT_PANEL.right + 56, 'peak RSS (MB)'));
  if (cpuTarget !== undefined) resourceParts.push(horizontalTarget(RIGHT_PANEL, yCpu.map(cpuTarget), `CPU target ${formatNumber(cpuTarget)} cores`));
  for (const s of colored) {
    const cpu = s.steps.map((step): Point | null =>
      finite(step.cpuCores) ? { x: xRes.map(step.concurrency), y: yCpu.map(step.cpuCores), tip: `${s.label}: CPU ${formatNumber(step.cpuCores)} cores at ${formatNumber(step.concurrency)} calls` } : null,
    );
    const rss = s.steps.map((step): Point | null =>
      finite(step.rssMb) ? { x: xRes.map(step.concurrency), y: yRss.map(step.rssMb), tip: `${s.label}: peak RSS ${formatNumber(step.rssMb)} MB at ${formatNumber(step.concurrency)} calls` } : null,
    );
    resourceParts.push(line(rss, s.color, RSS_STYLE, 'rss', s.label));
    resourceParts.push(line(cpu, s.color, CPU_STYLE, 'cpu', s.label));
  }
  if (allSteps.length === 0) resourceParts.push(emptyNote(RIGHT_PANEL, 'no steps measured'));

  /* Legend. */
  const styles: LegendItem[] = [];
  if (anyLatency) {
    for (const pct of ['p50', 'p95', 'p99'] as const) styles.push({ label: `intent ${pct}`, color: INK, style: PERCENTILE_STYLE[pct] });
  }
  if (anyLag) styles.push({ label: 'transcript lag p50', color: INK, style: LAG_STYLE });
  styles.push({ label: 'CPU (left axis)', color: INK, style: CPU_STYLE }, { label: 'peak RSS (right axis)', color: INK, style: RSS_STYLE });
  if (latencyTargets.length > 0 || cpuTarget !== undefined) styles.push({ label: 'target', color: TARGET, style: { width: 1.25, dash: TARGET_DASH, marker: 'none' } });
  const legendBlock = legend(
    [
      { heading: 'Scenario', items: colored.map((s) => ({ label: s.label, color: s.color })) },
      { heading: 'Lines', items: styles },
    ],
    LEGEND_TOP,
  );
  const height = Math.max(BASE_HEIGHT, Math.ceil(legendBlock.bottom + 4));

  const body = [
    el('rect', { x: 0, y: 0, width: WIDTH, height, fill: '#fff' }),
    text(WIDTH / 2, 30, title, { 'text-anchor': 'middle', 'font-size': 18, 'font-weight': 'bold', fill: INK }),
    el('g', { class: 'panel latency' }, latencyParts.join('')),
    el('g', { class: 'panel resources' }, resourceParts.join('')),
    legendBlock.markup,
  ].join('\n');
  return `${el('svg', { xmlns: 'http://www.w3.org/2000/svg', width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, 'font-family': 'sans-serif' }, `\n${el('title', {}, escapeXml(title))}\n${body}\n`)}\n`;
}
