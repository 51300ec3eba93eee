/**
 * `node dist/test/eval/recogniseCorpus.js --codec L16|PCMU [--corpus test/eval/corpus/dev] [--out /tmp/sgw-recognised]
 * [--voices slt,rms,awb,kal] [--profile auto|wideband|telephone] [--limit N]`:
 * speaks every en-US customer line of a corpus folder with flite and writes
 * what the gateway's recogniser hears, with the line's labels and the words
 * as written, to `<out>/en-US.<codec>.jsonl`: a corpus of recognised speech,
 * to score the classifier on (`evaluateText(…, { recognised: true })`) or to
 * train it with (`train-intents --corpus <out>`; measured on a dev fold and
 * not taken: docs/analytics.md#classifier). Prints the word error rate
 * against the written lines; `--profile` decodes with the wideband or the
 * telephone profile whatever the codec (docs/asr.md#telephone-speech-in-a-wideband-leg).
 *
 * Speech as the audio eval renders it: flite voices in turn (slt, rms, awb,
 * kal), 10 dB below flite's level, with the VAD gate's 300 ms before and
 * 600 ms after; `PCMU` goes through 8 kHz, mu-law and the gateway's
 * resampler into the telephone profile, as an RTP leg would. The engine runs
 * with the gateway's default pocketsphinx settings. Deterministic for one
 * machine's flite and pocketsphinx. Only ever point it at the dev split.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PocketsphinxEngine } from '../../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_VOCABULARY, POCKETSPHINX_NARROWBAND_DEFAULT_ARGS } from '../../src/asr/engines/pocketsphinx/args.js';
import { DEBIAN_MODEL } from '../../src/asr/engines/pocketsphinx/paths.js';
import { readCorpusFiles } from '../../src/analytics/classifier/corpus.js';
import { decodeUlaw, encodeUlaw } from '../../src/audio/codecs/g711.js';
import { Resampler } from '../../src/audio/Resampler.js';
import { concat, silence, synthesize, type FliteVoice } from '../../src/demo/speech.js';

const GAIN_DB = -10;

function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const value = i < 0 ? fallback : process.argv[i + 1];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

const codec = flag('--codec');
if (codec !== 'L16' && codec !== 'PCMU') throw new Error('--codec must be L16 or PCMU');
const corpus = flag('--corpus', 'test/eval/corpus/dev');
if (path.resolve(corpus).split(path.sep).includes('test') && path.basename(path.resolve(corpus)) === 'test') throw new Error('never the held-out test split');
const out = flag('--out', '/tmp/sgw-recognised');
const VOICES = flag('--voices', 'slt,rms,awb,kal').split(',') as FliteVoice[];
const profile = flag('--profile', 'auto');
if (profile !== 'auto' && profile !== 'wideband' && profile !== 'telephone') throw new Error('--profile must be auto, wideband or telephone');
const limit = Number(flag('--limit', 'Infinity'));
const rate = codec === 'PCMU' ? 8000 : 16000;
const narrowband = profile === 'auto' ? codec === 'PCMU' : profile === 'telephone';
const words = (t: string): string[] => t.split(' ').filter((w) => w !== '');
function edits(a: readonly string[], b: readonly string[]): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length] as number;
}
let errors = 0;
let written = 0;

const engine = new PocketsphinxEngine(DEBIAN_MODEL, { extraArgs: POCKETSPHINX_DEFAULT_ARGS, narrowbandArgs: POCKETSPHINX_NARROWBAND_DEFAULT_ARGS, vocabulary: POCKETSPHINX_DEFAULT_VOCABULARY });
const lines: string[] = [];
let index = 0;
let heard = 0;
for (const file of await readCorpusFiles(corpus, 'en-US')) {
  for (const item of file.items) {
    if (item.speaker !== 'customer' || index >= limit) continue;
    const voice = VOICES[index++ % VOICES.length] as FliteVoice;
    const gain = Math.pow(10, GAIN_DB / 20);
    const speech = (await synthesize(item.text, { voice, rate })).map((s) => Math.round(s * gain));
    let pcm = concat(silence(300, rate), speech, silence(600, rate));
    if (codec === 'PCMU') {
      const resampler = await Resampler.create(8000, 16000);
      pcm = resampler.process(decodeUlaw(encodeUlaw(pcm)));
      resampler.destroy();
    }
    const recognizer = engine.createRecognizer('en-US', { narrowband });
    const finals: string[] = [];
    for (let o = 0; o < pcm.length; o += 320) for (const r of recognizer.accept(pcm.subarray(o, o + 320))) if (r.final) finals.push(r.text);
    for (const r of recognizer.finish()) if (r.final) finals.push(r.text);
    recognizer.free();
    const text = finals.join(' ').trim();
    if (text !== '') heard++;
    errors += edits(words(item.text), words(text));
    written += words(item.text).length;
    lines.push(JSON.stringify({ text, speaker: 'customer', expect: item.expect, tags: [...(item.tags ?? []), `recognised:${codec}`, `voice:${voice}`, `from:${file.name}`], written: item.text }));
    if (index % 100 === 0) console.error(`${index} lines`);
  }
}
engine.free();
await mkdir(out, { recursive: true });
const target = path.join(out, `en-US.${codec}.jsonl`);
await writeFile(target, `${lines.filter((l) => !l.startsWith('{"text":""')).join('\n')}\n`);
console.log(`${codec} (${VOICES.join(',')}, ${narrowband ? 'telephone' : 'wideband'} profile): ${index} customer lines spoken, ${heard} heard as words, word error rate ${(errors / written).toFixed(3)} -> ${target}`);
