import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { wavBytes } from '../../src/demo/speech.js';

export interface FfmpegRtpOptions {
  readonly pcm: Int16Array;
  readonly sampleRate: number;
  readonly codec: 'PCMU' | 'PCMA' | 'L16';
  readonly port: number;
  readonly payloadType: number;
  /** Scratch file for the WAV ffmpeg reads. */
  readonly wavPath: string;
}

/**
 * Streams PCM as real-time RTP with ffmpeg, a real third-party sender
 * (`-re`, 20 ms packets). Resolves with ffmpeg's exit code once it is done.
 */
export async function streamWithFfmpeg(options: FfmpegRtpOptions): Promise<{ code: number | null; startedAt: number }> {
  await writeFile(options.wavPath, wavBytes(options.pcm, options.sampleRate));
  const rate = options.codec === 'L16' ? options.sampleRate : 8000;
  const samplesPerPacket = rate / 50;
  const codecArgs = { PCMU: ['-c:a', 'pcm_mulaw'], PCMA: ['-c:a', 'pcm_alaw'], L16: ['-c:a', 'pcm_s16be'] }[options.codec];
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `amovie=${options.wavPath},aresample=${rate},asetnsamples=n=${samplesPerPacket}:p=0`,
    '-ac', '1', ...codecArgs, '-f', 'rtp', '-payload_type', String(options.payloadType),
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
