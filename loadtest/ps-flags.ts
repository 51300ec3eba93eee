/**
 * `node dist/loadtest/ps-flags.js '{"name":["-flag","value"],...}' [partialIntervalMs]`:
 * pocketsphinx search flags against CPU and words. A set given as
 * `{"args":[...],"vocabulary":N}` also sets the recognisers' vocabulary
 * (`POCKETSPHINX_VOCABULARY`; default here: the whole model). Every turn of the load
 * test's fixtures (16 kHz) goes through a transcript recogniser with the
 * flags, cut as the VAD gate would (300 ms before, 600 ms after), and the run
 * reports the real-time factor (process CPU / audio, median of REPEATS=3
 * interleaved rounds) and the word error rate against the script. How
 * POCKETSPHINX_DEFAULT_ARGS was chosen (docs/asr.md#speed).
 *
 * `RATE=8000`: the telephone path instead: the fixtures rendered at 8 kHz, through
 * G.711 mu-law and back, upsampled to 16 kHz as the ASR worker does (src/audio/Resampler.ts,
 * created per turn; its CPU is counted), into narrowband (telephone profile) recognisers
 * whose flags are the set's (`narrowbandArgs`). `RESAMPLER=libsamplerate` upsamples with
 * libsamplerate instead of the default half-band filter (src/audio/Resampler.ts).
 */
import { PocketsphinxEngine } from '../src/asr/engines/pocketsphinx/PocketsphinxEngine.js';
import { DEBIAN_MODEL } from '../src/asr/engines/pocketsphinx/paths.js';
import { Resampler } from '../src/audio/Resampler.js';
import { decodeUlaw, encodeUlaw } from '../src/audio/codecs/g711.js';
import { renderFixtures } from './fixtures.js';

const norm = (t: string): string[] => t.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter((w) => w !== '');
function edits(a: string[], b: string[]): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) (d[i] as number[])[j] = Math.min((d[i - 1] as number[])[j]! + 1, (d[i] as number[])[j - 1]! + 1, (d[i - 1] as number[])[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return (d[a.length] as number[])[b.length]!;
}
const rate = Number(process.env.RATE ?? 16000) === 8000 ? 8000 : 16000;
const narrowband = rate === 8000;
const fixtures = await renderFixtures(rate);
const perMs = rate / 1000;
type FlagSet = string[] | { args: string[]; vocabulary?: number };
const sets: Record<string, FlagSet> = JSON.parse(process.argv[2] ?? '{}') as Record<string, FlagSet>;
const interval = Number(process.argv[3] ?? 150);
const results: Record<string, { rtf: number[]; wer: number }> = {};
for (let round = 0; round < Number(process.env.REPEATS ?? 3); round++) for (const [name, set] of Object.entries(sets)) {
  const { args, vocabulary } = Array.isArray(set) ? { args: set, vocabulary: undefined } : set;
  const engine = new PocketsphinxEngine(DEBIAN_MODEL, { extraArgs: args, narrowbandArgs: args, ...(vocabulary === undefined ? {} : { vocabulary }) });
  let errors = 0, words = 0, audioS = 0;
  const t0 = process.cpuUsage();
  const hyps: string[] = [];
  for (const f of fixtures) for (const p of f.phrases) {
    const rec = engine.createRecognizer('en-US', { partialIntervalMs: interval, narrowband });
    const cut = f.legs[p.leg].subarray(Math.max(0, Math.round((p.startMs - 300) * perMs)), Math.round((p.endMs + 600) * perMs));
    const pcm = narrowband ? decodeUlaw(encodeUlaw(cut)) : cut;
    audioS += pcm.length / rate;
    const resampler = await Resampler.create(rate, 16000, process.env.RESAMPLER === 'libsamplerate' ? 'libsamplerate' : 'auto');
    const out: string[] = [];
    const chunk = 20 * perMs;
    for (let o = 0; o < pcm.length; o += chunk) for (const r of rec.accept(resampler.process(pcm.subarray(o, o + chunk)))) if (r.final) out.push(r.text);
    resampler.destroy();
    for (const r of rec.finish()) if (r.final) out.push(r.text);
    rec.free();
    const hyp = norm(out.join(' '));
    const ref = norm(p.text.replace('four five six seven', 'four five six seven'));
    errors += edits(ref, hyp); words += ref.length; hyps.push(out.join(' '));
  }
  const cpu = process.cpuUsage(t0);
  engine.free();
  const r = (results[name] ??= { rtf: [], wer: 0 });
  r.rtf.push(((cpu.user + cpu.system) / 1e6) / audioS);
  r.wer = errors / words;
  if (process.env.SHOW) console.log(hyps.join(' | '));
}
for (const [name, r] of Object.entries(results)) {
  const sorted = [...r.rtf].sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} RTF median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} (${sorted.map((x) => x.toFixed(3)).join(' ')})  WER ${r.wer.toFixed(3)}`);
}
