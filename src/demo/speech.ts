/**
 * Synthetic call audio for the demo, tests and load test: flite speaks, sox
 * trims the synthesiser's leading/trailing silence and resamples, so the end
 * of each phrase in a leg's timeline is known to the millisecond.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal', 'kal16'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

export interface Wav {
  readonly sampleRate: number;
  readonly channels: number;
  /** Interleaved 16-bit samples. */
  readonly samples: Int16Array;
}

/** Reads a 16-bit PCM RIFF/WAVE file (walks the chunks; sox and flite add different ones). */
export async function readWav(file: string): Promise<Wav> {
  const buf = await readFile(file);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a WAV file`);
  }
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
      if ((format !== 1 && format !== 0xfffe) || bits !== 16) throw new Error(`${file}: only 16-bit PCM is supported (format ${format}, ${bits} bits)`);
    } else if (id === 'data') {
      if (sampleRate === 0) throw new Error(`${file}: data chunk before fmt chunk`);
      const length = Math.min(size, buf.length - body) >> 1;
      const samples = new Int16Array(length);
      for (let i = 0; i < length; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return { sampleRate, channels, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Writes mono 16-bit PCM as a WAV file (for ffmpeg and for listening to fixtures). */
export function wavBytes(samples: Int16Array, sampleRate: number): Buffer {
  const data = samples.length * 2;
  const buf = Buffer.alloc(44 + data);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i] as number, 44 + 2 * i);
  return buf;
}

/**
 * Speaks `text` with flite and returns mono 16-bit PCM at `rate`, with the
 * synthesiser's leading and trailing silence trimmed (unless `trim: false`).
 */
export async function synthesize(text: string, options: { voice?: FliteVoice; rate?: number; trim?: boolean } = {}): Promise<Int16Array> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sgw-speech-'));
  try {
    const raw = path.join(dir, 'flite.wav');
    const out = path.join(dir, 'out.wav');
    await run('flite', ['-voice', options.voice ?? 'slt', '-t', text, '-o', raw]);
    const trim = options.trim ?? true ? ['silence', '1', '0.02', '0.5%', 'reverse', 'silence', '1', '0.02', '0.5%', 'reverse'] : [];
    await run('sox', [raw, '-r', String(options.rate ?? 16000), '-c', '1', '-b', '16', out, ...trim]);
    return (await readWav(out)).samples;
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

export type Speaker = 'customer' | 'agent';

export interface Turn {
  readonly speaker: Speaker;
  readonly text: string;
  /** Louder (or softer) than the voice's normal level, e.g. 8 for a raised voice. */
  readonly gainDb?: number;
  /** Start this long before the previous turn ends: both parties talking at once. */
  readonly overlapMs?: number;
}

export interface RenderedCall {
  readonly sampleRate: number;
  /** One PCM track per leg, equal length; each is silent while the other speaks. */
  readonly legs: Readonly<Record<Speaker, Int16Array>>;
  /** Where each turn sits in the call, ms from the first sample. */
  readonly turns: readonly (Turn & { readonly startMs: number; readonly endMs: number })[];
}

/**
 * Renders a scripted two-party call as two time-aligned leg tracks, the way
 * a PBX would fork the customer and agent audio.
 */
export async function renderCall(
  turns: readonly Turn[],
  options: {
    rate: number;
    voices?: Partial<Record<Speaker, FliteVoice>>;
    leadMs?: number;
    gapMs?: number;
    tailMs?: number;
    /** Gain for every turn; flite speaks near full scale, telephone speech sits around -25 dBFS, which leaves room to shout. */
    gainDb?: number;
  },
): Promise<RenderedCall> {
  const { rate } = options;
  const voices = { customer: options.voices?.customer ?? 'slt', agent: options.voices?.agent ?? 'rms' } as const;
  const spoken = await Promise.all(turns.map((turn) => synthesize(turn.text, { voice: voices[turn.speaker], rate })));
  // Lay turns out on one timeline first, then mix each speaker's turns into their own track.
  const placed: (Turn & { startMs: number; endMs: number })[] = [];
  const starts: number[] = [];
  const samples = (ms: number): number => Math.round((ms * rate) / 1000);
  let previousEnd = samples(options.leadMs ?? 500) - samples(options.gapMs ?? 700);
  let end = 0;
  turns.forEach((turn, i) => {
    const audio = spoken[i] as Int16Array;
    const start = Math.max(0, turn.overlapMs === undefined ? previousEnd + samples(options.gapMs ?? 700) : previousEnd - samples(turn.overlapMs));
    starts.push(start);
    placed.push({ ...turn, startMs: (start / rate) * 1000, endMs: ((start + audio.length) / rate) * 1000 });
    previousEnd = Math.max(previousEnd, start + audio.length);
    end = Math.max(end, start + audio.length);
  });
  const cursor = end + samples(options.tailMs ?? 1500);
  const tracks: Record<Speaker, Int16Array> = { customer: new Int16Array(cursor), agent: new Int16Array(cursor) };
  turns.forEach((turn, i) => {
    const audio = spoken[i] as Int16Array;
    const gain = Math.pow(10, ((options.gainDb ?? 0) + (turn.gainDb ?? 0)) / 20);
    const track = tracks[turn.speaker];
    const start = starts[i] as number;
    for (let j = 0; j < audio.length; j++) {
      const mixed = (track[start + j] as number) + (audio[j] as number) * gain;
      track[start + j] = Math.max(-32768, Math.min(32767, Math.round(mixed)));
    }
  });
  return { sampleRate: rate, legs: tracks, turns: placed };
}
