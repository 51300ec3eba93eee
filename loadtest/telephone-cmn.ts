/**
 * `node dist/loadtest/telephone-cmn.js [--level 42]`: reads off the cepstral
 * mean of telephone speech as the gateway hands it to pocketsphinx, the
 * source of `TELEPHONE_CMNINIT` (src/asr/engines/pocketsphinx/PocketsphinxEngine.ts).
 *
 * Sixteen sentences, four flite voices, are spoken at 8 kHz, through G.711
 * mu-law and back, upsampled to 16 kHz by the gateway's resampler (the
 * half-band filter), and decoded by `pocketsphinx_continuous -cmn live`. The
 * mean printed is the average of the live-CMN updates pocketsphinx logs at
 * each utterance end; c0 (the level) is replaced by `--level`, since flite
 * speaks at full scale and telephone speech arrives quieter.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Resampler } from '../src/audio/Resampler.js';
import { decodeUlaw, encodeUlaw } from '../src/audio/codecs/g711.js';
import { concat, silence, synthesize, wavBytes, type FliteVoice } from '../src/demo/speech.js';

const SENTENCES = [
  'hello i have been waiting for an hour and this is the third time i am calling about my order',
  'i would like to speak to your manager please because nobody has called me back',
  'can you tell me when my parcel will arrive i paid for express delivery last week',
  'i want to cancel my subscription and get a refund for this month',
];
const VOICES: readonly FliteVoice[] = ['kal', 'awb', 'rms', 'slt'];

const { values } = parseArgs({ options: { level: { type: 'string', default: '42' } } });
const level = Number(values.level);
if (!Number.isFinite(level)) throw new Error('--level: a number (c0 of the mean)');

const parts: Int16Array[] = [];
for (const voice of VOICES) for (const text of SENTENCES) parts.push(await synthesize(text, { voice, rate: 8000 }), silence(500, 8000));
const telephone = decodeUlaw(encodeUlaw(concat(...parts)));
const resampler = await Resampler.create(8000, 16000);
const upsampled: Int16Array[] = [];
for (let at = 0; at < telephone.length; at += 160) upsampled.push(resampler.process(telephone.subarray(at, at + 160)));
resampler.destroy();

const dir = await mkdtemp(path.join(tmpdir(), 'sgw-cmn-'));
try {
  const wav = path.join(dir, 'telephone.wav');
  await writeFile(wav, wavBytes(concat(...upsampled), 16000));
  const { stderr } = await promisify(execFile)('pocketsphinx_continuous', ['-infile', wav, '-cmn', 'live'], { maxBuffer: 64 << 20 });
  // "cmn_live.c(105): Update to   < 48.45 32.11 … >": the mean after each utterance.
  const updates = [...stderr.matchAll(/Update to\s+<([^>]*)>/g)].map((m) => (m[1] ?? '').trim().split(/\s+/).map(Number));
  if (updates.length === 0) throw new Error('pocketsphinx logged no live-CMN update');
  const mean = Array.from({ length: 13 }, (_, i) => updates.reduce((sum, u) => sum + (u[i] ?? 0), 0) / updates.length);
  mean[0] = level;
  console.log(`${updates.length} updates over ${(telephone.length / 8000).toFixed(1)} s`);
  console.log(mean.map((c) => c.toFixed(2)).join(','));
} finally {
  await rm(dir, { recursive: true, force: true });
}
