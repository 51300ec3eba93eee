import type { CodecSpec } from '../audio/codecs/Codec.js';
import type { Language } from '../language.js';
import type { CallEndReason, LegRole, PauseReason } from '../push/events.js';

export interface LegParams {
  readonly role: LegRole;
  readonly codec: CodecSpec;
}

/** A validated StartCall. */
export interface StartCallParams {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  readonly legs: readonly LegParams[];
  /** No media: transcripts are pushed by the client (codecs are then unused). */
  readonly transcriptsOnly: boolean;
}

export interface LegSnapshot {
  readonly role: LegRole;
  readonly codec: CodecSpec;
  /** How the audio arrives: RTP on leased ports, or pushed by an ingest protocol. */
  readonly transport: 'rtp' | 'websocket' | 'tcp' | 'grpc';
  /** RTP only (empty/0 otherwise). */
  readonly host: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** `ip:port` of the latched RTP source, or undefined before the first packet. */
  readonly remote: string | undefined;
  readonly packetsReceived: number;
  readonly packetsDropped: number;
  readonly packetsLost: number;
  /** Set while recognition on the leg is suspended. */
  readonly paused: PauseReason | undefined;
}

export interface CallSnapshot {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  readonly state: 'active' | 'ended';
  readonly startedAt: number;
  readonly durationMs: number;
  readonly endReason: CallEndReason | undefined;
  readonly transcriptsOnly: boolean;
  readonly legs: readonly LegSnapshot[];
}
