import type { CodecSpec } from '../audio/codecs/Codec.js';
import type { ExpectedSource } from '../ingest/rtp/SourceLatch.js';
import type { Language } from '../language.js';
import type { LegMediaSnapshot } from './media/LegMedia.js';
import type { CallEndReason, LegRole, PauseReason, SiprecIdentifiers } from '../events.js';

export interface LegParams {
  readonly role: LegRole;
  readonly codec: CodecSpec;
  /** RTP legs: only this source may latch (StartCall `expected_source`). */
  readonly expectedSource?: ExpectedSource;
}

/**
 * Where a new call comes in (the `protocol` label of refusals): gRPC
 * StartCall (RTP or transcripts only), gRPC StreamAudio, Genesys AudioHook,
 * Twilio Media Streams, audio forks over WebSocket (`/v1/fork`), Asterisk
 * AudioSocket, `/v1/transcripts`, a SIPREC INVITE.
 */
export const INGEST_PROTOCOLS = ['start-call', 'stream-audio', 'audiohook', 'twilio', 'audio-fork', 'audiosocket', 'transcripts', 'siprec'] as const;
export type IngestProtocol = (typeof INGEST_PROTOCOLS)[number];

/** Ingest protocols whose audio the client streams to the gateway (no RTP ports). */
export type StreamedProtocol = Extract<IngestProtocol, 'stream-audio' | 'audiohook' | 'twilio' | 'audio-fork' | 'audiosocket'>;

/** A validated StartCall. */
export interface StartCallParams {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  readonly legs: readonly LegParams[];
  /** No media: transcripts are pushed by the client (codecs are then unused). */
  readonly transcriptsOnly: boolean;
  /** A SIPREC call's identifiers, on call.started and the post-call record. */
  readonly siprec?: SiprecIdentifiers;
}

/** A leg's state: its transport's counters (see LegMediaSnapshot) plus what the call knows of it. */
export interface LegSnapshot extends Omit<LegMediaSnapshot, 'lastPacketAt'> {
  readonly role: LegRole;
  readonly codec: CodecSpec;
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
