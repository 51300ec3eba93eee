/**
 * What each search of a call costs in a worker: `npm run bench:search -- [--chunk-ms 20] [--rate 16000|8000] [--copies 1] [--silence]`.
 *
 * Feeds the load test's fixture legs (fixtures.ts) through a real AsrWorkerPool (pocketsphinx,
 * one worker process, the gateway's default flags, N-best 4, VAD on) as fast as the worker takes
 * them, one search at a time: the customer leg's transcript, its keyword spotter, both (the
 * default `transcribe+spot`), and the agent leg's record-only transcript. Prints the worker CPU
 * per audio second of each (the pool's accounting: a worker process reports all the CPU it
 * uses), median of three interleaved rounds, after a round that starts the worker. `--chunk-ms`
 * is the size of each audio message (the gateway sends 20 ms); `--copies` runs that many copies
 * of every fixture leg at once (more streams interleaved in the worker).
 *
 * A silent run (`--silence`) feeds 60 s of near-silence per stream instead: what the worker spends
 * per audio message when the VAD passes nothing (the channel, the gate, the bookkeeping).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { AsrWorkerPool } from '../src/asr/pool/AsrWorkerPool.js';
import type { RecognitionMode } from '../src/asr/types.js';
import { POCKETSPHINX_AGENT_DEFAULT_ARGS, POCKETSPHINX_AGENT_DEFAULT_VOCABULARY, POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_VOCABULARY } from '../src/asr/engines/pocketsphinx/args.js';
import { DEBIAN_MODEL } from '../src/asr/engines/pocketsphinx/paths.js';
import { GrammarSet } from '../src/analytics/grammar/GrammarSet.js';
import { compileSpotPhrases } from '../src/analytics/grammar/spotPhrases.js';
import { PACKAGE_ROOT } from '../src/config.js';
import { GatewayMetrics } from '../src/metrics.js';
import { renderFixtures } from './fixtures.js';

interface Search {
  readonly leg: 'customer' | 'agent';
  readonly mode: RecognitionMode;
  readonly recordOnly: boolean;
}

const SEARCHES: Readonly<Record<string, Search>> = {
  'customer transcript': { leg: 'customer', mode: 'transcribe', recordOnly: false },
  'customer spotter': { leg: 'customer', mode: 'spot', recordOnly: false },
  'customer both (default)': { leg: 'customer', mode: 'transcribe+spot', recordOnly: false },
  'agent record-only': { leg: 'agent', mode: 'transcribe', recordOnly: true },
};
const ROUNDS = 3;
/** Audio queued per stream on the worker: keeps it busy, far under the pool's drop bound. */
const MAX_BACKLOG_MS = 1500;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'chunk-ms': { type: 'string', default: '20' },
      rate: { type: 'string', default: '16000' },
      copies: { type: 'string', default: '1' },
      silence: { type: 'boolean', default: false },
    },
  });
  const chunkMs = Number(values['chunk-ms']);
  const rate = Number(values.rate);
  const copies = Number(values.copies);
  if (!(chunkMs >= 10 && chunkMs <= 1000) || (rate !== 8000 && rate !== 16000) || !(copies >= 1 && copies <= 20)) {
    throw new Error('--chunk-ms 10-1000, --rate 8000|16000, --copies 1-20');
  }
  const grammars = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
  const spotPhrases = compileSpotPhrases(grammars.intents('en-US')).map((p) => p.text);
  const fixtures = await renderFixtures(rate);
  const noise = (): Int16Array => Int16Array.from({ length: rate * 60 }, () => Math.round((Math.random() - 0.5) * 20));
  const pool = await AsrWorkerPool.create({
    engine: {
      engine: 'pocketsphinx',
      ...DEBIAN_MODEL,
      extraArgs: POCKETSPHINX_DEFAULT_ARGS,
      narrowbandArgs: POCKETSPHINX_DEFAULT_ARGS,
      recordArgs: POCKETSPHINX_AGENT_DEFAULT_ARGS,
      recordVocabulary: POCKETSPHINX_AGENT_DEFAULT_VOCABULARY,
      vocabulary: POCKETSPHINX_DEFAULT_VOCABULARY,
      spotterArgs: [],
    },
    workers: 1,
    isolation: 'process',
    alternatives: 4,
    logger: pino({ level: 'silent' }),
    metrics: new GatewayMetrics({ defaultMetrics: false }),
  });
  const chunk = Math.round((rate * chunkMs) / 1000);
  const perSearch = new Map<string, number[]>();
  try {
    // Round 0 starts the worker (its start is counted in its first report) and is not kept.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const [name, search] of Object.entries(SEARCHES)) {
        const before = pool.stats();
        const legs = Array.from({ length: copies }, () => fixtures.map((f) => (values.silence ? noise() : f.legs[search.leg]))).flat();
        await Promise.all(
          legs.map(async (audio) => {
            const stream = await pool.openStream({ language: 'en-US', inputSampleRate: rate, mode: search.mode, recordOnly: search.recordOnly, ...(search.mode === 'transcribe' ? {} : { spotPhrases }) });
            const reading = (async () => {
              for await (const result of stream) void result;
            })();
            for (let i = 0; i < audio.length; i += chunk) {
              while (stream.bufferedAudioMs > MAX_BACKLOG_MS) await new Promise((resolve) => setTimeout(resolve, 2));
              stream.write(audio.slice(i, i + chunk));
            }
            await stream.end();
            await reading;
            stream.close();
          }),
        );
        const after = pool.stats();
        if (round > 0) perSearch.set(name, [...(perSearch.get(name) ?? []), (after.processingSeconds - before.processingSeconds) / (after.audioSeconds - before.audioSeconds)]);
      }
    }
  } finally {
    await pool.close();
  }
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  console.log(`pocketsphinx, one worker process, ${rate} Hz, ${chunkMs} ms messages, ${copies * fixtures.length} streams at once, ${values.silence ? 'near-silence' : 'the load test fixtures'}; median of ${ROUNDS} rounds`);
  console.log('| search | worker CPU s per audio s | rounds |');
  console.log('|---|---|---|');
  for (const [name, xs] of perSearch) console.log(`| ${name} | ${median(xs).toFixed(4)} | ${xs.map((x) => x.toFixed(4)).join(' ')} |`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
