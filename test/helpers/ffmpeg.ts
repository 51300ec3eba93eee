import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { wavBytes } from '../../src/demo/speech.js';

export type FfmpegRtpCodec = 'PCMU' | 'PCMA' | 'L16' | 'G722' | 'OPUS';

export interface FfmpegRtpOptions {
  readonly pcm: Int16Array;
  readonly sampleRate: number;
  readonly codec: FfmpegRtpCodec;
  readonly port: number;
  /** PCMU 0, PCMA 8, G722 9; L16 and OPUS take a dynamic one (96-127). */
  readonly payloadType: number;
  /** Scratch file for the WAV ffmpeg reads. */
  readonly wavPath: string;
}

/**
 * Encoder arguments and the rate ffmpeg encodes at, per codec. G.722 encodes
 * 16 kHz audio (ffmpeg's RTP muxer stamps it with the 8000 Hz clock of RFC
 * 3551); Opus is encoded at 48 kHz, mono, 20 ms frames (libopus).
 */
function encoding(codec: FfmpegRtpCodec, sampleRate: number): { rate: number; args: string[] } {
  switch (codec) {
    case 'PCMU':
      return { rate: 8000, args: ['-c:a', 'pcm_mulaw'] };
    case 'PCMA':
      return { rate: 8000, args: ['-c:a', 'pcm_alaw'] };
    case 'L16':
      return { rate: sampleRate, args: ['-c:a', 'pcm_s16be'] };
    case 'G722':
      return { rate: 16000, args: ['-c:a', 'g722'] };
    case 'OPUS':
      return { rate: 48000, args: ['-c:a', 'libopus', '-b:a', '32k', '-application', 'voip', '-frame_duration', '20'] };
  }
}

/**
 * Streams PCM as real-time RTP with ffmpeg, a real third-party sender
 * (`-re`, 20 ms packets). Resolves with ffmpeg's exit code once it is done.
 */
export async function streamWithFfmpeg(options: FfmpegRtpOptions): Promise<{ code: number | null; startedAt: number }> {
  await writeFile(options.wavPath, wavBytes(options.pcm, options.sampleRate));
  const { rate, args: codecArgs } = encoding(options.codec, options.sampleRate);
  const samplesPerPacket = rate / 50;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `amovie=${options.wavPath},aresample=${rate},asetnsamples=n=${samplesPerPacket}:p=0`,
    '-ac', '1', '-ar', String(rate), ...codecArgs, '-f', 'rtp', '-payload_type', String(options.payloadType),
    `rtp://127.0.0.1:${options.port}?pkt_size=1400`,
  ];
  const startedAt = Date.now();
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}: ${stderr.trim()}`);
  return { code, startedAt };
}
