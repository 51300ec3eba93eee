import type { CodecSpec } from '../audio/codecs/Codec.js';
import type { ExpectedSource } from '../ingest/rtp/SourceLatch.js';
import type { Language } from '../language.js';
import type { LegMediaSnapshot } from './media/LegMedia.js';
import type { CallEndReason, LegRole, PauseReason } from '../events.js';

export interface LegParams {
  readonly role: LegRole;
  readonly codec: CodecSpec;
  /** RTP legs: only this source may latch (StartCall `expected_source`). */
  readonly expectedSource?: ExpectedSource;
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
