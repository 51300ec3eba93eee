/**
 * ASR benchmark: `npm run bench:asr`.
 *
 * Renders four flite two-leg calls (src/demo/speech.ts), then for every
 * engine, VAD setting and input rate feeds all eight legs at once through a
 * real AsrWorkerPool, as fast as the workers take it (20 ms chunks, a bounded
 * backlog per stream, no real-time pacing), and prints one row each:
 *
 * - audio s: leg audio processed (both legs of every call);
 * - CPU s: the pool's processing accounting (worker processes report all the
 *   CPU they use); `proc CPU s` is /proc's count for this process and its
 *   worker processes over the same run (the main thread's bookkeeping included);
 * - RTF: CPU s / audio s (per stream); legs/core = 1 / RTF;
 * - MB/leg: RSS growth (this process and its workers) while the eight streams run, divided by eight;
 * - VAD saving: CPU saved with the gate versus the same input without it;
 * - words: words in finals (a sanity check that gating keeps the speech).
 * - spots: phrases the keyword spotters heard (modes transcribe+spot and spot).
 * 8 kHz rows get the engine's telephone profile (pocketsphinx: the narrowband cepstral mean), as in the gateway.
 *
 * Vosk rows only when VOSK_MODEL points at an en-US model directory.
 * The whole run is bounded (it exits by itself after at most 5 minutes).
 */
import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { AsrWorkerPool } from '../src/asr/pool/AsrWorkerPool.js';
import type { SpeechStream } from '../src/asr/SpeechStream.js';
import path from 'node:path';
import type { EngineConfig, RecognitionMode, RecognitionResult } from '../src/asr/types.js';
import { GrammarSet } from '../src/analytics/grammar/GrammarSet.js';
import { compileSpotPhrases } from '../src/analytics/grammar/spotPhrases.js';
import { PACKAGE_ROOT } from '../src/config.js';
import { DEBIAN_MODEL } from '../src/asr/engines/pocketsphinx/paths.js';
import { POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_VOCABULARY, POCKETSPHINX_NARROWBAND_DEFAULT_ARGS } from '../src/asr/engines/pocketsphinx/args.js';
import { renderCall, type RenderedCall, type Turn } from '../src/demo/speech.js';
import { GatewayMetrics } from '../src/metrics.js';
import { processTreeUsage } from './processTree.js';

const HARD_LIMIT_MS = 20 * 60_000;
const CHUNK_MS = 20;
/** Per-stream backlog the feeder keeps queued on the workers (keeps them busy without hitting the 5 s drop bound). */
const MAX_BACKLOG_MS = 1500;

const SCRIPTS: readonly (readonly Turn[])[] = [
  [
    { speaker: 'agent', text: 'Thank you for calling. How can I help you today?' },
    { speaker: 'customer', text: 'Hello. I would like to cancel my order. The order number is four five six seven.' },
    { speaker: 'agent', text: 'Of course. Let me check whether it has shipped.' },
    { speaker: 'customer', text: 'Thank you.' },
    { speaker: 'agent', text: 'That order has been cancelled. Is there anything else?' },
    { speaker: 'customer', text: 'No, that is all. Goodbye.' },
  ],
  [
    { speaker: 'agent', text: 'Good morning, you are speaking with Sam.' },
    { speaker: 'customer', text: 'Where is my order? It has not arrived.' },
    { speaker: 'agent', text: 'Let me check the tracking for you.' },
    { speaker: 'customer', text: 'This is the third time I am calling. I want to speak to your manager.' },
    { speaker: 'agent', text: 'I understand. I will get my supervisor.' },
  ],
  [
    { speaker: 'agent', text: 'Hello, how can I help?' },
    { speaker: 'customer', text: 'I was charged twice for the same order and I would like a refund.' },
    { speaker: 'agent', text: 'I am sorry about that. Can you give me the order number?' },
    { speaker: 'customer', text: 'It is one two three four.' },
    { speaker: 'agent', text: 'Thank you. The refund will be on your card in three days.' },
  ],
  [
    { speaker: 'agent', text: 'Thanks for calling, this is Alex.' },
    { speaker: 'customer', text: 'I need to change the delivery address for my order.' },
    { speaker: 'agent', text: 'Sure, what is the new address?' },
    { speaker: 'customer', text: 'Ten Main Street, please.' },
    { speaker: 'agent', text: 'Done. Your order will go to the new address.' },
  ],
];

interface Row {
  readonly engine: string;
  readonly vad: boolean;
  readonly mode: RecognitionMode;
  readonly rate: number;
  readonly legs: number;
  readonly audioSeconds: number;
  readonly cpuSeconds: number;
  readonly processCpuSeconds: number;
  readonly wallSeconds: number;
  readonly mbPerLeg: number;
  readonly skippedSeconds: number;
  readonly words: number;
  readonly spotHits: number;
}

const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function feed(stream: SpeechStream, pcm: Int16Array, rate: number): Promise<void> {
  const size = (rate * CHUNK_MS) / 1000;
  for (let i = 0; i < pcm.length; i += size) {
    while (stream.bufferedAudioMs > MAX_BACKLOG_MS) await sleep(2);
    stream.write(pcm.slice(i, i + size));
  }
}

async function collect(stream: SpeechStream): Promise<RecognitionResult[]> {
  const out: RecognitionResult[] = [];
  for await (const r of stream) if (r.final) out.push(r);
  return out;
}

async function measure(engine: EngineConfig, vad: boolean, mode: RecognitionMode, spotPhrases: readonly string[], calls: readonly RenderedCall[], rate: number): Promise<Row> {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const workers = Math.min(2, availableParallelism());
  // The gateway's telephone profile for pocketsphinx (Gateway.ts): narrowband legs get the high-band fill.
  const pool = await AsrWorkerPool.create({ engine, workers, logger, metrics, vad });
  const open = (): Promise<SpeechStream> => pool.openStream({ language: 'en-US', inputSampleRate: rate, mode, ...(mode === 'transcribe' ? {} : { spotPhrases }) });
  let spotHits = 0;
  try {
    // Warm-up: one short stream per worker so wasm/model pages are loaded before the baseline.
    const warm = await Promise.all(Array.from({ length: workers }, open));
    const first = calls[0]?.legs.agent.subarray(0, rate) ?? new Int16Array(rate);
    await Promise.all(warm.map(async (s) => {
      const done = collect(s);
      await feed(s, first, rate);
      await s.end();
      s.close();
      await done;
    }));
    const before = pool.stats();
    const usageBefore = await processTreeUsage(process.pid);
    const rssBefore = usageBefore.rssMb;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => void processTreeUsage(process.pid).then((u) => (rssPeak = Math.max(rssPeak, u.rssMb))), 100);
    const start = performance.now();

    const legs = calls.flatMap((c) => [c.legs.customer, c.legs.agent]);
    const streams = await Promise.all(legs.map(open));
    for (const s of streams) s.onSpot(() => spotHits++);
    const finals = streams.map(collect);
    await Promise.all(streams.map(async (s, i) => {
      await feed(s, legs[i] as Int16Array, rate);
      await s.end();
    }));
    const results = await Promise.all(streams.map(async (s, i) => {
      s.close();
      return finals[i] as Promise<RecognitionResult[]>;
    }));

    const wallSeconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    const usageAfter = await processTreeUsage(process.pid);
    rssPeak = Math.max(rssPeak, usageAfter.rssMb);
    const after = pool.stats();
    return {
      engine: engine.engine,
      vad,
      mode,
      rate,
      legs: legs.length,
      audioSeconds: after.audioSeconds - before.audioSeconds,
      cpuSeconds: after.processingSeconds - before.processingSeconds,
      processCpuSeconds: (usageAfter.cpuTicks - usageBefore.cpuTicks) / 100,
      wallSeconds,
      mbPerLeg: (rssPeak - rssBefore) / legs.length,
      skippedSeconds: (after.vadSkippedSeconds ?? 0) - (before.vadSkippedSeconds ?? 0),
      words: results.flat().reduce((n, r) => n + r.words.length, 0),
      spotHits,
    };
  } finally {
    await pool.close();
  }
}

function table(rows: readonly Row[]): string {
  const head = ['engine', 'recognition', 'VAD', 'input Hz', 'legs', 'audio s', 'CPU s', 'proc CPU s', 'wall s', 'RTF', 'legs/core', 'MB/leg', 'VAD skipped', 'VAD saving', 'words', 'spots'];
  const body = rows.map((r) => {
    const off = rows.find((o) => o.engine === r.engine && o.rate === r.rate && !o.vad && o.mode === r.mode);
    const saving = r.vad && off ? `${((1 - r.cpuSeconds / off.cpuSeconds) * 100).toFixed(1)}%` : '-';
    const rtf = r.cpuSeconds / r.audioSeconds;
    return [
      r.engine,
      r.mode,
      r.vad ? 'vad' : 'no-vad',
      String(r.rate),
      String(r.legs),
      r.audioSeconds.toFixed(1),
      r.cpuSeconds.toFixed(2),
      r.processCpuSeconds.toFixed(2),
      r.wallSeconds.toFixed(1),
      rtf.toFixed(4),
      (1 / rtf).toFixed(1),
      r.mbPerLeg.toFixed(1),
      r.vad ? `${((r.skippedSeconds / r.audioSeconds) * 100).toFixed(1)}%` : '-',
      saving,
      String(r.words),
      String(r.spotHits),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  // The gateway's default search flags (POCKETSPHINX_ARGS, POCKETSPHINX_NARROWBAND_ARGS).
  const engines: EngineConfig[] = [{ engine: 'pocketsphinx', ...DEBIAN_MODEL, extraArgs: POCKETSPHINX_DEFAULT_ARGS, narrowbandArgs: POCKETSPHINX_NARROWBAND_DEFAULT_ARGS, vocabulary: POCKETSPHINX_DEFAULT_VOCABULARY }];
  const voskModel = process.env['VOSK_MODEL'];
  if (voskModel) engines.push({ engine: 'vosk', models: { 'en-US': voskModel } });

  const rates = [16000, 8000];
  const rendered = new Map<number, RenderedCall[]>();
  for (const rate of rates) {
    rendered.set(rate, await Promise.all(SCRIPTS.map((script) => renderCall(script, { rate, gainDb: -10 }))));
  }
  const calls16 = rendered.get(16000) ?? [];
  const callSeconds = calls16.reduce((n, c) => n + c.legs.agent.length / c.sampleRate, 0);
  console.log(`bench:asr: ${calls16.length} flite two-leg calls, ${callSeconds.toFixed(1)} s of call audio (${(2 * callSeconds).toFixed(1)} s of leg audio), all legs concurrently, ${CHUNK_MS} ms chunks, as fast as possible, ${Math.min(2, availableParallelism())} workers on ${availableParallelism()} cores`);

  // The box is small and shared by the feeder and both workers: each configuration is measured
  // REPEATS times, rounds interleaved so drift hits every configuration alike, and the median
  // (by recogniser CPU) is reported.
  const repeats = Math.max(1, Number(process.env['BENCH_REPEATS'] ?? 3));
  const grammars = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
  const spotPhrases = compileSpotPhrases(grammars.intents('en-US')).map((p) => p.text);
  // Spotting rows with VAD only: the gate is the default, and its saving is shown by the transcribe rows.
  const modes: { vad: boolean; mode: RecognitionMode }[] = [
    { vad: false, mode: 'transcribe' },
    { vad: true, mode: 'transcribe' },
    { vad: true, mode: 'transcribe+spot' },
    { vad: true, mode: 'spot' },
  ];
  const configs = engines.flatMap((engine) => rates.flatMap((rate) => modes.map(({ vad, mode }) => ({ engine, rate, vad, mode }))));
  const samples = configs.map(() => [] as Row[]);
  for (let round = 0; round < repeats; round++) {
    for (const [i, { engine, rate, vad, mode }] of configs.entries()) {
      const row = await measure(engine, vad, mode, spotPhrases, rendered.get(rate) ?? [], rate);
      samples[i]?.push(row);
      console.error(`  round ${round + 1}/${repeats}: ${engine.engine} ${mode} ${vad ? 'vad' : 'no-vad'} ${rate} Hz in ${row.wallSeconds.toFixed(1)} s, RTF ${(row.cpuSeconds / row.audioSeconds).toFixed(4)}`);
    }
  }
  const rows = samples.map((runs) => [...runs].sort((a, b) => a.cpuSeconds - b.cpuSeconds)[Math.floor(runs.length / 2)] as Row);
  console.log(table(rows));
  console.log(`median of ${repeats} runs per row (BENCH_REPEATS). CPU s = worker processing time (pool accounting); RTF = CPU s / audio s; legs/core = 1/RTF; MB/leg = peak RSS growth / legs; VAD saving = CPU saved vs no-vad at the same rate; spots = phrases the spotters heard (${spotPhrases.length} phrases compiled from grammars/en-US).`);
}

const limit = setTimeout(() => {
  console.error(`bench:asr: still running after ${HARD_LIMIT_MS / 1000} s; giving up`);
  process.exit(2);
}, HARD_LIMIT_MS).unref();

main().then(
  () => clearTimeout(limit),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
