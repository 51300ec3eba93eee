/**
 * What engine isolation costs: `npm run bench:isolation [-- <legs> <rate>]`.
 *
 * Feeds the same speech through a real AsrWorkerPool (pocketsphinx, two
 * workers, the gateway's default search flags and N-best) once with worker
 * threads and once with worker processes, as fast as the workers take it
 * (20 ms chunks, at most 1.5 s queued per stream), and prints per isolation:
 * audio seconds, wall seconds, throughput (audio seconds per wall second per
 * worker), the pool's accounted processing seconds and the CPU /proc counts
 * for this process and its workers. Three rounds, interleaved; medians.
 */
import { pino } from 'pino';
import { AsrWorkerPool } from '../src/asr/pool/AsrWorkerPool.js';
import type { WorkerIsolation } from '../src/asr/pool/WorkerHost.js';
import { POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_VOCABULARY } from '../src/asr/engines/pocketsphinx/args.js';
import { DEBIAN_MODEL } from '../src/asr/engines/pocketsphinx/paths.js';
import { concat, silence, synthesize } from '../src/demo/speech.js';
import { GatewayMetrics } from '../src/metrics.js';
import { processTreeUsage } from './processTree.js';

const LEGS = Number(process.argv[2] ?? 12);
const RATE = Number(process.argv[3] ?? 16000);
const WORKERS = 2;
const ROUNDS = 3;

interface Round {
  readonly audioSeconds: number;
  readonly wallSeconds: number;
  readonly accountedSeconds: number;
  readonly procCpuSeconds: number;
  /** Final results over all legs: the same for both isolations, or one of them lost speech. */
  readonly finals: number;
}

async function round(isolation: WorkerIsolation, audio: Int16Array): Promise<Round> {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const pool = await AsrWorkerPool.create({
    engine: { engine: 'pocketsphinx', ...DEBIAN_MODEL, extraArgs: POCKETSPHINX_DEFAULT_ARGS, vocabulary: POCKETSPHINX_DEFAULT_VOCABULARY },
    workers: WORKERS,
    isolation,
    alternatives: 4,
    logger: pino({ level: 'silent' }),
    metrics,
  });
  try {
    const streams = await Promise.all(Array.from({ length: LEGS }, () => pool.openStream({ language: 'en-US', inputSampleRate: RATE })));
    const before = await processTreeUsage(process.pid);
    const started = performance.now();
    const chunk = Math.round(RATE / 50);
    const readers = streams.map(async (s) => {
      let results = 0;
      for await (const result of s) if (result.final) results++;
      return results;
    });
    await Promise.all(
      streams.map(async (s) => {
        for (let i = 0; i < audio.length; i += chunk) {
          while (s.bufferedAudioMs > 1500) await new Promise((resolve) => setTimeout(resolve, 5));
          s.write(audio.subarray(i, i + chunk));
        }
        await s.end();
      }),
    );
    const finals = (await Promise.all(readers)).reduce((a, b) => a + b, 0);
    const wallSeconds = (performance.now() - started) / 1000;
    const after = await processTreeUsage(process.pid);
    const stats = pool.stats();
    return { audioSeconds: stats.audioSeconds, wallSeconds, accountedSeconds: stats.processingSeconds, procCpuSeconds: (after.cpuTicks - before.cpuTicks) / 100, finals };
  } finally {
    await pool.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const speech = await synthesize('hello I would like to cancel my order because it has not arrived and I am not happy about it at all', { rate: RATE });
  const audio = concat(speech, silence(1000, RATE), speech, silence(1000, RATE), speech, silence(1000, RATE));
  const rounds: Record<WorkerIsolation, Round[]> = { thread: [], process: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const isolation of ['thread', 'process'] as const) rounds[isolation].push(await round(isolation, audio));
  }
  console.log(`pocketsphinx, ${WORKERS} workers, ${LEGS} legs at ${RATE} Hz, transcribe with N-best 4; median of ${ROUNDS} interleaved rounds`);
  console.log('| isolation | audio s | wall s | audio s per wall s per worker | accounted CPU s | /proc CPU s (this process + workers) | finals |');
  console.log('|---|---|---|---|---|---|---|');
  for (const isolation of ['thread', 'process'] as const) {
    const r = rounds[isolation];
    const wall = median(r.map((x) => x.wallSeconds));
    const audioSeconds = median(r.map((x) => x.audioSeconds));
    console.log(`| ${isolation} | ${audioSeconds.toFixed(1)} | ${wall.toFixed(1)} | ${(audioSeconds / wall / WORKERS).toFixed(2)} | ${median(r.map((x) => x.accountedSeconds)).toFixed(1)} | ${median(r.map((x) => x.procCpuSeconds)).toFixed(1)} | ${median(r.map((x) => x.finals))} |`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
