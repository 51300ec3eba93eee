/**
 * Test speech generated on the fly with flite (TTS) and sox (resampling), so
 * no audio fixtures live in the repository.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Wav {
  readonly sampleRate: number;
  readonly channels: number;
  /** Interleaved 16-bit samples. */
  readonly samples: Int16Array;
}

/** Reads a 16-bit PCM RIFF/WAVE file (walks the chunks; sox and flite add different ones). */
export async function readWav(path: string): Promise<Wav> {
  const buf = await readFile(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      const format = buf.readUInt16LE(body);
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      const bits = buf.readUInt16LE(body + 14);
      if ((format !== 1 && format !== 0xfffe) || bits !== 16) throw new Error(`${path}: only 16-bit PCM supported (format ${format}, ${bits} bits)`);
    } else if (id === 'data') {
      if (sampleRate === 0) throw new Error(`${path}: data before fmt chunk`);
      const length = Math.min(size, buf.length - body) >> 1;
      const samples = new Int16Array(length);
      for (let i = 0; i < length; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return { sampleRate, channels, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Speaks `text` with flite and returns mono 16-bit PCM at `rate` (default 16000). */
export async function synthesize(text: string, options: { voice?: string; rate?: number } = {}): Promise<Int16Array> {
  const dir = await mkdtemp(join(tmpdir(), 'sgw-speech-'));
  try {
    const raw = join(dir, 'flite.wav');
    const out = join(dir, 'out.wav');
    await run('flite', ['-voice', options.voice ?? 'slt', '-t', text, '-o', raw]);
    await run('sox', [raw, '-r', String(options.rate ?? 16000), '-c', '1', '-b', '16', out]);
    const wav = await readWav(out);
    return wav.samples;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function silence(ms: number, rate: number): Int16Array {
  return new Int16Array(Math.round((ms * rate) / 1000));
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Splits PCM into chunks of `ms` (the last may be shorter), like RTP packetisation. */
export function chunks(pcm: Int16Array, rate: number, ms = 20): Int16Array[] {
  const size = Math.round((rate * ms) / 1000);
  const out: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += size) out.push(pcm.subarray(i, i + size));
  return out;
}
