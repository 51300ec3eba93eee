import { EventEmitter } from 'node:events';
import type { Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { EventHub } from '../push/EventHub.js';
import type { CallEndReason } from '../push/events.js';
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
  readonly legs: readonly Leg[];
  readonly rtpTimeoutMs: number;
  readonly hub: EventHub;
  readonly logger: Logger;
}

/**
 * A live call: its legs, its RTP-silence watchdog and its end. `end()` is
 * idempotent and every path out (request, timeout, RTCP BYE, shutdown) goes
 * through it, so call.ended is published exactly once and ports are freed.
 */
export class Call extends EventEmitter<CallEvents> {
  readonly callId: string;
  readonly startedAt: number;
  private endReason: CallEndReason | undefined;
  private endedAt: number | undefined;
  private ending: Promise<void> | undefined;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly options: CallOptions) {
    super();
    this.callId = options.callId;
    this.startedAt = options.startedAt;
    const period = Math.max(50, Math.min(1000, options.rtpTimeoutMs / 4));
    this.watchdog = setInterval(() => this.checkRtpTimeout(), period);
    this.watchdog.unref();
  }

  get state(): 'active' | 'ended' {
    return this.endReason === undefined ? 'active' : 'ended';
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
      legs: this.options.legs.map((leg) => leg.snapshot),
    };
  }

  private checkRtpTimeout(): void {
    const last = Math.max(this.startedAt, ...this.options.legs.map((leg) => leg.lastPacketAt ?? 0));
    if (Date.now() - last >= this.options.rtpTimeoutMs) void this.end('rtp-timeout');
  }

  /** Ends the call (idempotent; later reasons are ignored) and resolves once it is fully torn down. */
  end(reason: CallEndReason): Promise<void> {
    if (this.ending !== undefined) return this.ending;
    this.endReason = reason;
    this.endedAt = Date.now();
    clearInterval(this.watchdog);
    this.options.logger.info({ reason }, 'call ending');
    this.ending = (async () => {
      const results = await Promise.allSettled(this.options.legs.map((leg) => leg.close()));
      for (const result of results) {
        if (result.status === 'rejected') this.options.logger.error({ err: result.reason as unknown }, 'leg close failed');
      }
      this.options.hub.publish({
        type: 'call.ended',
        callId: this.callId,
        reason,
        durationMs: (this.endedAt ?? Date.now()) - this.startedAt,
      });
      this.emit('ended', reason);
    })();
    return this.ending;
  }
}
