import { EventEmitter } from 'node:events';
import type { CallAnalytics } from '../analytics/CallAnalytics.js';
import type { SpeechStream } from '../asr/SpeechStream.js';
import type { RecognitionResult } from '../asr/types.js';
import type { CodecSpec } from '../audio/codecs/Codec.js';
import { frameLevelDb } from '../audio/levels.js';
import type { PortLease } from '../ingest/rtp/PortAllocator.js';
import type { RtpAudioFrame, RtpLegReceiver } from '../ingest/rtp/RtpLegReceiver.js';
import type { Logger } from '../logger.js';
import type { LegRole } from '../push/events.js';
import type { LegSnapshot } from './types.js';

export interface LegOptions {
  readonly role: LegRole;
  readonly codec: CodecSpec;
  readonly advertisedHost: string;
  readonly lease: PortLease;
  readonly receiver: RtpLegReceiver;
  readonly speech: SpeechStream;
  readonly analytics: CallAnalytics;
  /** `Date.now()` at call start: the zero of every event time on this call. */
  readonly callStartedAt: number;
  readonly logger: Logger;
}

export interface LegEvents {
  /** RTCP BYE from the leg's source (RFC 3550 §6.6). */
  bye: [];
}

/**
 * One direction of a call's media: RTP in, recogniser, results and audio
 * levels to the call's analytics. Owns its receiver (and so its ports) and its
 * speech stream.
 */
export class Leg extends EventEmitter<LegEvents> {
  readonly role: LegRole;
  /**
   * Call time (ms) of the leg's first sample. Recogniser times count from
   * the first sample written, so this shifts them onto the call's timeline.
   */
  private audioOffsetMs: number | undefined;
  /** Samples received so far (lost ones filled), the leg's audio clock. */
  private samples = 0;
  private closed = false;
  private readonly results: Promise<void>;

  constructor(private readonly options: LegOptions) {
    super();
    this.role = options.role;
    options.receiver.on('audio', (frame) => this.onAudio(frame));
    options.receiver.once('bye', () => this.emit('bye'));
    options.speech.onGap((gap) => {
      const offset = this.audioOffsetMs ?? 0;
      options.analytics.onGap(this.role, offset + gap.startMs, offset + gap.endMs, gap.reason);
    });
    this.results = this.consumeResults();
  }

  get snapshot(): LegSnapshot {
    const stats = this.options.receiver.stats;
    return {
      role: this.role,
      codec: this.options.codec,
      host: this.options.advertisedHost,
      rtpPort: this.options.lease.rtpPort,
      rtcpPort: this.options.lease.rtcpPort,
      remote: stats.remote === undefined ? undefined : `${stats.remote.address}:${stats.remote.port}`,
      packetsReceived: stats.packetsReceived,
      packetsDropped: stats.packetsDropped,
      packetsLost: stats.packetsLost,
    };
  }

  get lastPacketAt(): number | undefined {
    return this.options.receiver.stats.lastPacketAt;
  }

  private onAudio(frame: RtpAudioFrame): void {
    const frameMs = (frame.pcm.length / frame.sampleRate) * 1000;
    this.audioOffsetMs ??= Math.max(0, frame.receivedAt - frameMs - this.options.callStartedAt);
    const atMs = this.audioOffsetMs + (this.samples / frame.sampleRate) * 1000;
    this.samples += frame.pcm.length;
    this.options.analytics.onAudioFrame(this.role, atMs, frameMs, frame.concealed ? -100 : frameLevelDb(frame.pcm));
    // The frame is ours (fresh decoder output) and nothing reads it after this: hand it over.
    this.options.speech.write(frame.pcm, { transfer: true });
  }

  private async consumeResults(): Promise<void> {
    try {
      for await (const result of this.options.speech) {
        const offset = this.audioOffsetMs ?? 0;
        const shifted: RecognitionResult = {
          ...result,
          startMs: offset + result.startMs,
          endMs: offset + result.endMs,
          words: result.words.map((w) => ({ ...w, startMs: offset + w.startMs, endMs: offset + w.endMs })),
        };
        this.options.analytics.onRecognition(this.role, shifted, this.options.callStartedAt + shifted.endMs);
      }
    } catch (err) {
      this.options.logger.error({ err, leg: this.role }, 'recognition stream failed');
    }
  }

  /**
   * Idempotent. Stops RTP, lets the recogniser finish the last utterance
   * (bounded by `flushTimeoutMs`) so its final transcript is not lost, then
   * frees the ports.
   */
  async close(flushTimeoutMs = 3000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.options.receiver.close();
    await this.options.lease.release();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), flushTimeoutMs);
    });
    const flushed = await Promise.race([this.options.speech.end().then(() => 'flushed' as const, () => 'failed' as const), timeout]);
    clearTimeout(timer);
    if (flushed !== 'flushed') this.options.logger.warn({ leg: this.role, flushed }, 'final transcript not flushed');
    this.options.speech.close();
    await this.results;
  }
}
