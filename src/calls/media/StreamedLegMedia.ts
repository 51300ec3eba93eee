import { EventEmitter } from 'node:events';
import type { LegMedia, LegMediaEvents, LegMediaSnapshot, SkippedTimeReason } from './LegMedia.js';
import { PcmCoalescer } from './PcmCoalescer.js';

/**
 * A leg whose audio an ingest protocol pushes (AudioHook, Twilio Media
 * Streams, AudioSocket, gRPC StreamAudio): the protocol decodes its framing
 * and codec and hands PCM to {@link write}. Same events as RTP, so the call,
 * its recogniser and its analytics do not care where audio came from.
 */
export class StreamedLegMedia extends EventEmitter<LegMediaEvents> implements LegMedia {
  private closed = false;
  private received = 0;
  private dropped = 0;
  private lastAt: number | undefined;
  /** Chunks are gathered to 20 ms before they reach the leg (see PcmCoalescer); one per rate and kind. */
  private coalescer: { readonly rate: number; readonly concealed: boolean; readonly pcm: PcmCoalescer } | undefined;

  constructor(
    private readonly transport: 'websocket' | 'tcp' | 'grpc',
    /** `ip:port` of the client, for the snapshot. */
    private readonly remote: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /**
   * One chunk of decoded mono PCM, any length. `concealed` marks fill for
   * audio the protocol says was lost (AudioHook `discarded`). Chunks reach
   * the leg gathered into frames of at least 20 ms, in order. Ignored after close.
   */
  write(pcm: Int16Array, sampleRate: number, concealed = false): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    this.received++;
    this.lastAt = this.now();
    let coalescer = this.coalescer;
    if (coalescer === undefined || coalescer.rate !== sampleRate || coalescer.concealed !== concealed) {
      coalescer?.pcm.flush();
      coalescer = {
        rate: sampleRate,
        concealed,
        pcm: new PcmCoalescer((frame) => this.emit('audio', { pcm: frame, sampleRate, receivedAt: this.now(), concealed }), sampleRate / 50),
      };
      this.coalescer = coalescer;
    }
    coalescer.pcm.write(pcm);
  }

  /**
   * `ms` of this leg passed without audio (AudioHook `paused`…`resumed`,
   * `discarded`; a Twilio media timestamp jump): the leg's clock moves on
   * without that much silence for the recogniser. After the audio written
   * so far. Ignored after close.
   */
  skipTime(ms: number, reason?: SkippedTimeReason): void {
    if (this.closed || !(ms > 0)) return;
    this.coalescer?.pcm.flush();
    this.lastAt = this.now();
    this.emit('skipTime', ms, reason);
  }

  dtmf(digit: string, durationMs?: number): void {
    if (this.closed) return;
    this.emit('dtmf', { digit, receivedAt: this.now(), ...(durationMs === undefined ? {} : { durationMs }) });
  }

  /** The protocol's end of stream (close, hangup, stop): the call may end. */
  hangUp(): void {
    if (this.closed) return;
    this.coalescer?.pcm.flush();
    this.emit('bye');
  }

  get snapshot(): LegMediaSnapshot {
    return {
      transport: this.transport,
      host: '',
      rtpPort: 0,
      rtcpPort: 0,
      remote: this.remote,
      packetsReceived: this.received,
      packetsDropped: this.dropped,
      packetsLost: 0,
      lastPacketAt: this.lastAt,
    };
  }

  async close(): Promise<void> {
    if (!this.closed) this.coalescer?.pcm.flush();
    this.closed = true;
    return Promise.resolve();
  }
}
