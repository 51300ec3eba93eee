import { EventEmitter } from 'node:events';
import type { CallAnalytics } from '../analytics/CallAnalytics.js';
import type { CallRecordWriter } from '../analytics/summary/CallRecordWriter.js';
import type { RecognitionResult } from '../asr/types.js';
import { GatewayError } from '../errors.js';
import type { Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { EventPublisher } from './EventBus.js';
import type { CallEndReason, LegRole, PauseReason, SiprecIdentifiers } from '../events.js';
import type { Leg } from './Leg.js';
import type { CallSnapshot } from './types.js';

export interface CallEvents {
  /** Emitted once, after the legs are closed and call.ended is published. */
  ended: [reason: CallEndReason];
}

export interface CallOptions {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
  readonly startedAt: number;
  /** Media legs; empty for a transcripts-only call. */
  readonly legs: readonly Leg[];
  /** Roles of a transcripts-only call. */
  readonly transcriptRoles: readonly LegRole[];
  readonly analytics: CallAnalytics;
  /** The JSON-lines export of post-call records; undefined with CALL_RECORDS_JSONL=off. */
  readonly records: CallRecordWriter | undefined;
  /** A SIPREC call's identifiers (updated by metadata updates), for the post-call record. */
  readonly siprec?: SiprecIdentifiers;
  /** The call ends after this long without RTP (or pushed transcripts). */
  readonly inactivityTimeoutMs: number;
  readonly hub: EventPublisher;
  readonly logger: Logger;
}

/**
 * A live call: its legs, its analytics, its inactivity watchdog and its end.
 * `end()` is idempotent and every path out (request, timeout, RTCP BYE,
 * shutdown) goes through it, so call.ended and the call record are produced
 * exactly once and ports are freed.
 */
export class Call extends EventEmitter<CallEvents> {
  readonly callId: string;
  readonly startedAt: number;
  private endReason: CallEndReason | undefined;
  private endedAt: number | undefined;
  private ending: Promise<void> | undefined;
  private lastPushAt = 0;
  private siprec: SiprecIdentifiers | undefined;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly options: CallOptions) {
    super();
    this.callId = options.callId;
    this.startedAt = options.startedAt;
    this.siprec = options.siprec;
    const period = Math.max(50, Math.min(1000, options.inactivityTimeoutMs / 4));
    this.watchdog = setInterval(() => this.onTick(), period);
    this.watchdog.unref();
  }

  get state(): 'active' | 'ended' {
    return this.endReason === undefined ? 'active' : 'ended';
  }

  get transcriptsOnly(): boolean {
    return this.options.legs.length === 0;
  }

  get snapshot(): CallSnapshot {
    return {
      callId: this.callId,
      agentId: this.options.agentId,
      queue: this.options.queue,
      language: this.options.language,
      state: this.state,
      startedAt: this.startedAt,
      durationMs: (this.endedAt ?? Date.now()) - this.startedAt,
      endReason: this.endReason,
      transcriptsOnly: this.transcriptsOnly,
      legs: this.options.legs.map((leg) => leg.snapshot),
    };
  }

  /**
   * A transcript pushed by the client of a call the gateway does not
   * recognise itself (transcripts-only, or any call with `ASR=none`); times on the call timeline.
   * @throws GatewayError for a call whose audio the gateway transcribes, or a role the call does not have.
   */
  pushTranscript(role: LegRole, result: RecognitionResult): void {
    if (this.options.legs.some((leg) => leg.recognizes)) {
      throw new GatewayError('SGW_NOT_TRANSCRIPTS_ONLY', `call ${this.callId} transcribes its own audio; start it with transcripts_only (or run the gateway with ASR=none) to push transcripts`);
    }
    if (!this.options.transcriptRoles.includes(role)) throw new GatewayError('SGW_INVALID_ARGUMENT', `role: call ${this.callId} has no ${role} leg`);
    if (this.state !== 'active') throw new GatewayError('SGW_CALL_NOT_FOUND', `call ${this.callId} has ended`);
    this.lastPushAt = Date.now();
    this.options.analytics.onRecognition(role, result);
  }

  /**
   * Suspends recognition on one leg or all (see `Leg.suspend`).
   * @throws GatewayError SGW_NO_AUDIO for a transcripts-only call, SGW_INVALID_ARGUMENT for a role it lacks.
   */
  suspend(reason: PauseReason, role?: LegRole): void {
    for (const leg of this.legsFor(role)) leg.suspend(reason);
  }

  /** Resumes recognition on one leg or all; each suspended leg publishes its gap. */
  resume(role?: LegRole): void {
    for (const leg of this.legsFor(role)) leg.resume();
  }

  private legsFor(role: LegRole | undefined): Leg[] {
    if (this.transcriptsOnly) throw new GatewayError('SGW_NO_AUDIO', `call ${this.callId} has no audio legs (transcripts only)`);
    const legs = this.options.legs.filter((leg) => role === undefined || leg.role === role);
    if (legs.length === 0) throw new GatewayError('SGW_INVALID_ARGUMENT', `role: call ${this.callId} has no ${role ?? ''} leg`);
    return legs;
  }

  /** Replaces the SIPREC identifiers the post-call record carries (a metadata update). */
  updateSiprec(siprec: SiprecIdentifiers): void {
    this.siprec = siprec;
  }

  private onTick(): void {
    const now = Date.now();
    this.options.analytics.tick(now - this.startedAt);
    // A suspended leg may legitimately send nothing (a protocol's pause): it counts as alive.
    if (this.options.legs.some((leg) => leg.suspended !== undefined)) return;
    const last = Math.max(this.startedAt, this.lastPushAt, ...this.options.legs.map((leg) => leg.lastPacketAt ?? 0));
    // The call was over at its last media (or push); the timeout only noticed it later.
    if (now - last >= this.options.inactivityTimeoutMs) void this.end(this.transcriptsOnly ? 'inactivity-timeout' : 'rtp-timeout', last);
  }

  /**
   * Ends the call (idempotent; later reasons are ignored) and resolves once it
   * is fully torn down. `endedAt` (epoch ms, default now) is when the call
   * really ended, for a timeout that notices it later.
   */
  end(reason: CallEndReason, endedAt = Date.now()): Promise<void> {
    if (this.ending !== undefined) return this.ending;
    this.endReason = reason;
    this.endedAt = Math.max(this.startedAt, endedAt);
    clearInterval(this.watchdog);
    this.options.logger.info({ reason }, 'call ending');
    this.ending = (async () => {
      const results = await Promise.allSettled(this.options.legs.map((leg) => leg.close()));
      for (const result of results) {
        if (result.status === 'rejected') this.options.logger.error({ err: result.reason as unknown }, 'leg close failed');
      }
      const endedAt = this.endedAt ?? Date.now();
      this.options.hub.publish({ type: 'call.ended', callId: this.callId, reason, durationMs: endedAt - this.startedAt });
      const analysed = this.options.analytics.summarize(reason, endedAt);
      const summary = this.siprec === undefined ? analysed : { ...analysed, siprec: this.siprec };
      this.options.hub.publish({ type: 'call.summary', callId: this.callId, summary });
      this.options.records?.write(summary);
      this.emit('ended', reason);
    })();
    return this.ending;
  }
}
