/**
 * Test speech generated on the fly with flite (TTS) and sox (resampling), so
 * no audio fixtures live in the repository. Built on src/demo/speech.ts; here
 * synthesis keeps flite's own leading/trailing silence unless asked to trim.
 */
import { synthesize as synthesizeTrimmed, type FliteVoice } from '../../src/demo/speech.js';

export { concat, readWav, silence, type Wav } from '../../src/demo/speech.js';

/** Speaks `text` with flite and returns mono 16-bit PCM at `rate` (default 16000). */
export function synthesize(text: string, options: { voice?: FliteVoice; rate?: number; trim?: boolean } = {}): Promise<Int16Array> {
  return synthesizeTrimmed(text, { ...options, trim: options.trim ?? false });
}

/** Splits PCM into chunks of `ms` (the last may be shorter), like RTP packetisation. */
export function chunks(pcm: Int16Array, rate: number, ms = 20): Int16Array[] {
  const size = Math.round((rate * ms) / 1000);
  const out: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += size) out.push(pcm.subarray(i, i + size));
  return out;
}
