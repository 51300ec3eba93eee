import type { EventEmitter } from 'node:events';

/** One chunk of a leg's decoded audio. */
export interface MediaFrame {
  /** Mono 16-bit PCM at `sampleRate`; owned by the listener. */
  readonly pcm: Int16Array;
  readonly sampleRate: number;
  /** `Date.now()` when it arrived (for lost-audio fill: when the loss was decided). */
  readonly receivedAt: number;
  /** True for fill standing in for lost audio (packet loss concealment). */
  readonly concealed: boolean;
}

/** A DTMF key press (RFC 4733 telephone-event, AudioHook/Twilio/AudioSocket DTMF). Never transcribed. */
export interface DtmfPress {
  /** `0`-`9`, `*`, `#`, `A`-`D`. */
  readonly digit: string;
  /** `Date.now()` at the start of the press. */
  readonly receivedAt: number;
  /** Press length in ms where the transport reports it. */
  readonly durationMs?: number;
}

/** Why time passed on a leg without audio, when it is to be marked as a `transcript.gap`. */
export type SkippedTimeReason = 'discarded';

export interface LegMediaEvents {
  audio: [frame: MediaFrame];
  dtmf: [press: DtmfPress];
  /**
   * `ms` of the leg's time passed without audio (a platform's pause,
   * audio it discarded): time on the call timeline, not silence to
   * recognise. With a reason the span is marked as a `transcript.gap`.
   */
  skipTime: [ms: number, reason: SkippedTimeReason | undefined];
  /** The far end hung up this leg (RTCP BYE, a protocol's close or hangup). */
  bye: [];
}

/** What a call's snapshot says about a leg's transport. */
export interface LegMediaSnapshot {
  readonly transport: 'rtp' | 'websocket' | 'tcp' | 'grpc';
  /** RTP only: the advertised address and ports; empty/0 otherwise. */
  readonly host: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** `ip:port` of the sender once known. */
  readonly remote: string | undefined;
  /** Packets, frames or messages with audio accepted. */
  readonly packetsReceived: number;
  readonly packetsDropped: number;
  readonly packetsLost: number;
  /** `Date.now()` of the last media received, for the inactivity watchdog. */
  readonly lastPacketAt: number | undefined;
}

/**
 * Where a leg's audio comes from: an RTP receiver on allocated ports, or a
 * stream an ingest protocol (AudioHook, Twilio, AudioSocket, gRPC) pushes
 * decoded audio into. A Leg owns its media and closes it.
 */
export interface LegMedia extends EventEmitter<LegMediaEvents> {
  readonly snapshot: LegMediaSnapshot;
  /** Stops receiving and frees what it holds (ports). Idempotent. */
  close(): Promise<void>;
}
