import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, niceTicks, renderPlot, type PlotSeries, type PlotStep } from '../../../loadtest/plot.js';

/**
 * A tiny well-formedness check: every tag closes in order, attribute values
 * are quoted, no stray '<' or '&' in text. Returns the element names seen.
 */
function checkWellFormed(svg: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    const textEnd = lt < 0 ? svg.length : lt;
    const content = svg.slice(i, textEnd);
    assert.doesNotMatch(content, /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/, `raw '&' in text ${JSON.stringify(content)}`);
    assert.ok(!content.includes('>'), `raw '>' in text ${JSON.stringify(content)}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    assert.ok(m, `malformed tag at ${lt}: ${JSON.stringify(svg.slice(lt, lt + 60))}`);
    const [whole, closing, name = '', attributes = '', selfClosing] = m;
    for (const value of attributes.matchAll(/="([^"]*)"/g)) {
      assert.doesNotMatch(value[1] ?? '', /&(?!(?:amp|lt|gt|quot|apos);)/, `raw '&' in attribute of <${name}>`);
    }
    if (closing === '/') {
      assert.equal(selfClosing, '', `</${name}/>`);
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      names.push(name);
      if (selfClosing !== '/') stack.push(name);
    }
    i = lt + whole.length;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  return names;
}

function count(haystack: string, needle: RegExp): number {
  return [...haystack.matchAll(needle)].length;
}

function step(concurrency: number, p50: number | undefined, extra: Partial<PlotStep> = {}): PlotStep {
  return {
    concurrency,
    ...(p50 === undefined ? {} : { intentLatencyMs: { p50, p95: p50 * 1.6, p99: p50 * 2.3 } }),
    cpuCores: concurrency * 0.04,
    rssMb: 180 + concurrency * 3.5,
    ...extra,
  };
}

const SERIES: PlotSeries[] = [
  { label: 'pocketsphinx 8k', steps: [10, 25, 50, 100].map((c) => step(c, 180 + c * 2, { transcriptLagMs: { p50: 300 + c, p95: 500 + c } })) },
  { label: 'vosk 16k', steps: [10, 25, 50].map((c) => step(c, 260 + c * 5)) },
];

test('niceTicks: round steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(0, 0.95, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-7, 13, 4), [-10, -5, 0, 5, 10, 15]);
  assert.deepEqual(niceTicks(13, -7, 4), [-10, -5, 0, 5, 10, 15], 'arguments in either order');
  assert.deepEqual(niceTicks(0, 1234, 5), [0, 200, 400, 600, 800, 1000, 1200, 1400]);
  assert.deepEqual(niceTicks(0, 0, 5), [0, 0.2, 0.4, 0.6, 0.8, 1], 'zero-width at 0 widens to [0, 1]');
  const single = niceTicks(3, 3, 5);
  assert.ok(single.length >= 2 && (single[0] ?? Infinity) < 3 && (single.at(-1) ?? -Infinity) > 3, `around 3: ${single.join(',')}`);
  assert.throws(() => niceTicks(0, Number.NaN), RangeError);
});

test('niceTicks: properties over many ranges', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 500; i++) {
    const scale = 10 ** Math.floor(random() * 12 - 6);
    const a = (random() - 0.3) * scale;
    const b = a + random() * scale;
    const want = 2 + Math.floor(random() * 8);
    const ticks = niceTicks(a, b, want);
    const first = ticks[0] ?? Number.NaN;
    const last = ticks.at(-1) ?? Number.NaN;
    assert.ok(first <= a + Math.abs(a) * 1e-9 && last >= b - Math.abs(b) * 1e-9, `[${a}, ${b}] not covered by ${ticks.join(',')}`);
    assert.ok(ticks.length >= 2 && ticks.length <= 2 * want + 2, `${ticks.length} ticks for ${want} intervals`);
    const stepSize = (ticks[1] ?? 0) - first;
    const mantissa = stepSize / 10 ** Math.floor(Math.log10(stepSize) + 1e-9);
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `step ${stepSize} is not 1/2/5 × 10^n`);
    for (let k = 1; k < ticks.length; k++) {
      assert.ok(Math.abs((ticks[k] ?? 0) - (ticks[k - 1] ?? 0) - stepSize) <= stepSize * 1e-6, `uneven ticks ${ticks.join(',')}`);
    }
  }
});

test('formatNumber is compact', () => {
  assert.deepEqual(
    [0, 0.25, 3.14159, 42, 99.95, 950, 1234, 12_500, 3_200_000, -0.5, 1e-7].map(formatNumber),
    ['0', '0.25', '3.14', '42', '100', '950', '1234', '12.5k', '3.2M', '-0.5', '1e-7'],
  );
});

test('renderPlot: well-formed SVG with a line per latency series and percentile', () => {
  const svg = renderPlot('Load test', SERIES, { targets: { latencyP50Ms: 300, latencyP95Ms: 800, cpuCores: 4 } });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960" height="640" viewBox="0 0 960 640" font-family="sans-serif">/);
  const names = checkWellFormed(svg);
  assert.ok(names.includes('path') && names.includes('text'));
  for (const pct of ['p50', 'p95', 'p99']) {
    assert.equal(count(svg, new RegExp(`<path class="lat-${pct}" `, 'g')), SERIES.length, `one ${pct} line per series`);
  }
  assert.equal(count(svg, /<path class="lag-p50" /g), 1, 'transcript lag only where measured');
  assert.equal(count(svg, /<path class="cpu" /g), 2);
  assert.equal(count(svg, /<path class="rss" /g), 2);
  assert.equal(count(svg, /<line class="target" /g), 3);
  assert.match(svg, /p95 target 800 ms/);
  assert.match(svg, /CPU target 4 cores/);
  assert.match(svg, /pocketsphinx 8k/);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  assert.doesNotMatch(svg, /@import|url\(|<script|href=/, 'no external resources');
});

test('renderPlot: escapes labels and title', () => {
  const svg = renderPlot('p95 < 1 s & "fast"', [{ label: 'a<b & c>d', steps: [step(5, 100)] }]);
  checkWellFormed(svg);
  assert.ok(svg.includes('a&lt;b &amp; c&gt;d'));
  assert.ok(svg.includes('p95 &lt; 1 s &amp; &quot;fast&quot;'));
  assert.ok(!svg.includes('a<b'));
  assert.ok(!svg.includes('1 s & '));
});

test('renderPlot: no latency measured, zeros, a single step', () => {
  const none = renderPlot('no intents', [{ label: 'idle', steps: [step(0, undefined, { cpuCores: 0, rssMb: 0 }), step(10, undefined)] }]);
  checkWellFormed(none);
  assert.equal(count(none, /class="lat-p\d\d"/g), 0);
  assert.match(none, /no intent latency measured/);
  assert.equal(count(none, /<path class="cpu" /g), 1);
  assert.doesNotMatch(none, /NaN|Infinity/);

  const single = renderPlot('one step', [{ label: 'solo', steps: [step(1, 0, { cpuCores: 0, rssMb: 0 })] }]);
  checkWellFormed(single);
  assert.equal(count(single, /<path class="lat-p50" /g), 1);
  assert.match(single, /d="M[\d.]+ [\d.]+"/, 'a one-point line is a bare move');
  assert.match(single, /<circle /, 'with a marker so it shows');
  assert.doesNotMatch(single, /NaN|Infinity/);

  const empty = renderPlot('nothing', []);
  checkWellFormed(empty);
  assert.match(empty, /no steps measured/);
  assert.doesNotMatch(empty, /NaN|Infinity/);
});

test('renderPlot: gaps break the line instead of dropping to zero', () => {
  const svg = renderPlot('gaps', [{ label: 's', steps: [step(10, 100), step(20, undefined), step(30, 120), step(40, 130)] }]);
  checkWellFormed(svg);
  const d = /<path class="lat-p50" data-series="s" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  assert.equal(count(d, /M/g), 2, d);
  assert.equal(count(d, /L/g), 1, d);
});

test('renderPlot: a long legend grows the canvas', () => {
  const many = Array.from({ length: 14 }, (_, i) => ({ label: `scenario number ${i} with a long name`, steps: [step(10, 100 + i)] }));
  const svg = renderPlot('many', many);
  checkWellFormed(svg);
  const height = Number(/height="(\d+)"/.exec(svg)?.[1]);
  assert.ok(height > 640, `height ${height}`);
});
