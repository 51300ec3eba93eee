/**
 * Memory per pocketsphinx decoder, measured through the engine itself
 * (`PocketsphinxEngine.createRecognizer` / `createSpotter`).
 *
 *   node dist/loadtest/ps-memory.js                       # all kinds, K = 1, 4, 8
 *   node dist/loadtest/ps-memory.js --kinds kws --k 1,8   # some of them
 *   node dist/loadtest/ps-memory.js --extra '-mmap no'    # extra pocketsphinx flags (engine extraArgs)
 *   node dist/loadtest/ps-memory.js --dict FILE --lm FILE # another dictionary or language model
 *   node dist/loadtest/ps-memory.js --vocabulary 20000     # recognisers' vocabulary (default the gateway's; all: the whole model)
 *
 * Every (kind, K) runs in a fresh child process: it builds the engine, makes
 * one warm-up decoder of the kind (one-time costs: the engine's vocabulary,
 * the telephone model folder, the library's first mappings of the model
 * files), then reads VmRSS (/proc/self/status) and Pss (/proc/self/smaps_rollup),
 * makes K more decoders, keeps them all live, reads again and reports the
 * growth divided by K. Kinds: `wideband` and `narrowband` (telephone profile)
 * transcript decoders (language model search) and `kws` (the keyword
 * spotter over the grammars' spot phrases, wideband).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrammarSet } from '../src/analytics/grammar/GrammarSet.js';
import { compileSpotPhrases } from '../src/analytics/grammar/spotPhrases.js';
import type { Recognizer, Spotter } from '../src/asr/engines/Engine.js';
import { PocketsphinxEngine, type PocketsphinxModel } from '../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { DEBIAN_MODEL } from '../src/asr/engines/pocketsphinx/paths.js';
import { POCKETSPHINX_DEFAULT_VOCABULARY } from '../src/asr/engines/pocketsphinx/args.js';
import { PACKAGE_ROOT } from '../src/config.js';

const KINDS = ['wideband', 'narrowband', 'kws'] as const;
type Kind = (typeof KINDS)[number];

interface Memory {
  /** kB, from /proc/self/status and /proc/self/smaps_rollup. */
  readonly rss: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly pss: number;
}

interface ChildReport {
  readonly kind: Kind;
  readonly k: number;
  readonly start: Memory;
  readonly warm: Memory;
  readonly end: Memory;
  readonly initMs: number;
  readonly phrases: number;
}

interface Options {
  readonly kinds: readonly Kind[];
  readonly ks: readonly number[];
  readonly extra: readonly string[];
  readonly model: PocketsphinxModel;
  /** Recognisers' vocabulary (`--vocabulary N|all`, default the gateway's). */
  readonly vocabulary: number | undefined;
}

function kB(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (match?.[1] === undefined) throw new Error(`${field} not found`);
  return Number(match[1]);
}

function memory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  return { rss: kB(status, 'VmRSS'), rssAnon: kB(status, 'RssAnon'), rssFile: kB(status, 'RssFile'), pss: kB(rollup, 'Pss') };
}

function parseArgs(argv: readonly string[]): { options: Options; child: { kind: Kind; k: number } | undefined } {
  let kinds: readonly Kind[] = KINDS;
  let ks: readonly number[] = [1, 4, 8];
  let extra: readonly string[] = [];
  let model: PocketsphinxModel = DEBIAN_MODEL;
  let vocabulary: number | undefined = POCKETSPHINX_DEFAULT_VOCABULARY;
  let child: { kind: Kind; k: number } | undefined;
  const isKind = (s: string): s is Kind => (KINDS as readonly string[]).includes(s);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    switch (flag) {
      case '--kinds':
        kinds = value.split(',').map((s) => {
          if (!isKind(s)) throw new Error(`unknown kind '${s}' (${KINDS.join(', ')})`);
          return s;
        });
        i++;
        break;
      case '--k':
        ks = value.split(',').map(Number);
        i++;
        break;
      case '--extra':
        extra = value.split(/\s+/).filter((s) => s !== '');
        i++;
        break;
      case '--dict':
        model = { ...model, dict: value };
        i++;
        break;
      case '--lm':
        model = { ...model, lm: value };
        i++;
        break;
      case '--vocabulary':
        vocabulary = value === 'all' ? undefined : Number(value);
        i++;
        break;
      case '--child': {
        const k = Number(argv[i + 2]);
        if (!isKind(value) || !(k > 0)) throw new Error('--child KIND K');
        child = { kind: value, k };
        i += 2;
        break;
      }
      default:
        throw new Error(`unknown argument '${flag ?? ''}'`);
    }
  }
  return { options: { kinds, ks, extra, model, vocabulary }, child };
}

async function runChild(options: Options, kind: Kind, k: number): Promise<ChildReport> {
  const phrases = kind === 'kws' ? compileSpotPhrases((await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'))).intents('en-US')).map((p) => p.text) : [];
  const start = memory();
  const engine = new PocketsphinxEngine(options.model, { extraArgs: options.extra, maxIdleDecoders: 0, ...(options.vocabulary === undefined ? {} : { vocabulary: options.vocabulary }) });
  const live: (Recognizer | Spotter)[] = [];
  const make = (): Recognizer | Spotter =>
    kind === 'kws' ? engine.createSpotter('en-US', phrases) : engine.createRecognizer('en-US', { narrowband: kind === 'narrowband' });
  live.push(make());
  const warm = memory();
  const began = performance.now();
  for (let i = 0; i < k; i++) live.push(make());
  const initMs = (performance.now() - began) / k;
  const end = memory();
  for (const d of live) d.free();
  engine.free();
  return { kind, k, start, warm, end, initMs, phrases: phrases.length };
}

function mb(kb: number): string {
  return (kb / 1024).toFixed(1);
}

function runParent(options: Options, argv: readonly string[]): number {
  const script = fileURLToPath(import.meta.url);
  console.log(`pocketsphinx memory per decoder; model hmm ${options.model.hmm}, lm ${options.model.lm}, dict ${options.model.dict}, vocabulary ${options.vocabulary ?? 'all'}; extra args [${options.extra.join(' ')}]`);
  console.log('kind        K   RSS MB/dec  anon  file  PSS MB/dec  init ms/dec  first decoder + engine: RSS MB  PSS MB');
  let failed = 0;
  for (const kind of options.kinds) {
    for (const k of options.ks) {
      const child = spawnSync(process.execPath, ['--expose-gc', script, ...argv, '--child', kind, String(k)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
      if (child.status !== 0 || line === undefined) {
        console.log(`${kind.padEnd(10)} ${String(k).padStart(2)}  failed (exit ${String(child.status)}): ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        failed++;
        continue;
      }
      const r = JSON.parse(line) as ChildReport;
      const per = (f: keyof Memory): string => mb((r.end[f] - r.warm[f]) / r.k).padStart(5);
      console.log(
        `${kind.padEnd(10)} ${String(k).padStart(2)}  ${per('rss').padStart(10)} ${per('rssAnon')} ${per('rssFile')}  ${per('pss').padStart(10)}  ${r.initMs.toFixed(0).padStart(11)}  ${mb(r.warm.rss - r.start.rss).padStart(29)}  ${mb(r.warm.pss - r.start.pss).padStart(6)}` +
          (kind === 'kws' ? `   (${r.phrases} phrases)` : ''),
      );
    }
  }
  return failed === 0 ? 0 : 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const { options, child } = parseArgs(argv);
  if (child !== undefined) {
    console.log(JSON.stringify(await runChild(options, child.kind, child.k)));
    return 0;
  }
  return runParent(options, argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  },
);
