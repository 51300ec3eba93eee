/**
 * `npm run bench:matching`: what phonetic and N-best matching cost. The
 * customer turns of the dev calls (test/eval/calls/dev*.json, flite voices
 * as labelled) go through a pocketsphinx transcript recogniser, wideband
 * (16 kHz) and narrowband (8 kHz upsampled, the telephone profile), with
 * and without an N-best list; every final is then matched with and without
 * phonetic matching. Prints per setting:
 *
 * - recogniser CPU per audio second (this thread's CPU time / audio), so the
 *   N-best list's share is the difference between its two rows;
 * - N-best time per final: the extra wall time of a final with alternatives;
 * - matcher CPU per final and per audio second, phonetic on and off
 *   (main-thread work in the gateway);
 * - intents found only thanks to each technique on these turns.
 *
 * Single thread, no pool: the figures are per core. Median of REPEATS (3)
 * interleaved rounds.
 */
import path from 'node:path';
import { GrammarSet } from '../src/analytics/grammar/GrammarSet.js';
import { IntentMatcher, UtteranceIntentTracker } from '../src/analytics/intents/IntentMatcher.js';
import { PhoneticLexicon } from '../src/analytics/phonetic/PhoneticLexicon.js';
import { PocketsphinxEngine } from '../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { DEBIAN_MODEL } from '../src/asr/engines/pocketsphinx/paths.js';
import type { RecognitionResult } from '../src/asr/types.js';
import { Resampler } from '../src/audio/Resampler.js';
import { PACKAGE_ROOT } from '../src/config.js';
import { synthesize } from '../src/demo/speech.js';
import { readCalls } from '../test/eval/evalAudio.js';

const REPEATS = Number(process.env['REPEATS'] ?? 3);
const ALTERNATIVES = Number(process.env['ALTERNATIVES'] ?? 4);

interface Turn {
  readonly pcm16k: Int16Array;
  readonly seconds: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function render(narrowband: boolean): Promise<Turn[]> {
  const calls = await readCalls('dev');
  const turns: Turn[] = [];
  const up = narrowband ? await Resampler.create(8000, 16000) : undefined;
  for (const call of calls) {
    for (const turn of call.script) {
      if (turn.speaker !== 'customer') continue;
      const pcm = await synthesize(turn.text, { voice: call.voices?.customer ?? 'slt', rate: narrowband ? 8000 : 16000 });
      // Half a second of silence either side, as the VAD gate would pass it.
      const padded = new Int16Array(pcm.length + (narrowband ? 8000 : 16000));
      padded.set(pcm, (narrowband ? 8000 : 16000) / 2);
      const pcm16k = up === undefined ? padded : up.process(padded);
      turns.push({ pcm16k, seconds: pcm16k.length / 16000 });
    }
  }
  up?.destroy();
  return turns;
}

function recognise(engine: PocketsphinxEngine, turns: readonly Turn[], narrowband: boolean, alternatives: number): { cpuMs: number; finals: RecognitionResult[]; finalMs: number[] } {
  const finals: RecognitionResult[] = [];
  const finalMs: number[] = [];
  const start = cpuMs();
  for (const turn of turns) {
    const recognizer = engine.createRecognizer('en-US', { narrowband, alternatives });
    for (let o = 0; o < turn.pcm16k.length; o += 320) {
      const t0 = performance.now();
      const out = recognizer.accept(turn.pcm16k.subarray(o, o + 320));
      const dt = performance.now() - t0;
      for (const r of out) if (r.final) {
        finals.push(r);
        finalMs.push(dt);
      }
    }
    const t0 = performance.now();
    const last = recognizer.finish();
    const dt = performance.now() - t0;
    for (const r of last) if (r.final) {
      finals.push(r);
      finalMs.push(dt);
    }
    recognizer.free();
  }
  return { cpuMs: cpuMs() - start, finals, finalMs };
}

function match(matcher: IntentMatcher, finals: readonly RecognitionResult[]): { cpuMs: number; intents: Set<string> } {
  const intents = new Set<string>();
  const start = cpuMs();
  finals.forEach((final, i) => {
    const tracker = new UtteranceIntentTracker(matcher, 'customer');
    for (const m of tracker.onResult({ ...final, utteranceId: i })) intents.add(`${i}:${m.intent.id}:${m.evidence}`);
  });
  return { cpuMs: cpuMs() - start, intents };
}

const grammars = await GrammarSet.load(path.join(PACKAGE_ROOT, 'grammars'));
const lexicon = PhoneticLexicon.load('en-US', { dictionary: DEBIAN_MODEL.dict });
if (lexicon === undefined) throw new Error('no phonetic lexicon: install pocketsphinx-en-us and libespeak-ng1 (npm run setup)');
const plain = new IntentMatcher(grammars.intents('en-US'), { language: 'en-US' });
const phonetic = new IntentMatcher(grammars.intents('en-US'), { language: 'en-US', phonetic: lexicon });
const engine = new PocketsphinxEngine(DEBIAN_MODEL);

const rows: string[] = ["| input | audio s | recogniser CPU/audio s, 1-best | with N-best | N-best extra per final (median ms) | matcher ms/final, plain | phonetic | phonetic's matcher CPU per audio s | intents: plain | +phonetic | +N-best |", '|---|---|---|---|---|---|---|---|---|---|---|'];
for (const narrowband of [false, true]) {
  const turns = await render(narrowband);
  const audio = turns.reduce((s, t) => s + t.seconds, 0);
  const base: number[] = [];
  const nbest: number[] = [];
  const extra: number[] = [];
  const plainMs: number[] = [];
  const phoneticMs: number[] = [];
  let counts = { plain: 0, phonetic: 0, nbest: 0 };
  let finals = 0;
  for (let round = 0; round < REPEATS; round++) {
    const one = recognise(engine, turns, narrowband, 0);
    const many = recognise(engine, turns, narrowband, ALTERNATIVES);
    base.push(one.cpuMs / 1000 / audio);
    nbest.push(many.cpuMs / 1000 / audio);
    extra.push(median(many.finalMs) - median(one.finalMs));
    const p = match(plain, one.finals);
    const q = match(phonetic, one.finals);
    const r = match(plain, many.finals);
    finals = one.finals.length;
    plainMs.push(p.cpuMs / Math.max(1, one.finals.length));
    phoneticMs.push(q.cpuMs / Math.max(1, one.finals.length));
    const ids = (s: Set<string>): number => new Set([...s].map((x) => x.split(':').slice(0, 2).join(':'))).size;
    counts = { plain: ids(p.intents), phonetic: ids(q.intents), nbest: ids(r.intents) };
  }
  rows.push(
    `| ${narrowband ? '8 kHz (telephone profile)' : '16 kHz'} | ${audio.toFixed(0)} | ${median(base).toFixed(3)} | ${median(nbest).toFixed(3)} | ${median(extra).toFixed(1)} | ${median(plainMs).toFixed(2)} | ${median(phoneticMs).toFixed(2)} | ${(((median(phoneticMs) - median(plainMs)) * finals) / audio / 1000).toFixed(4)} | ${counts.plain} | ${counts.phonetic - counts.plain} | ${counts.nbest - counts.plain} |`,
  );
}
engine.free();
console.log(`pocketsphinx, ${ALTERNATIVES} alternatives, ${REPEATS} rounds, dev calls' customer turns\n`);
console.log(rows.join('\n'));
