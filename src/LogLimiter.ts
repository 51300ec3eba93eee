import type { ErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * Why a line is logged through the limiter: lines that a client (or a forged
 * packet) can make the gateway write once per request, connection, message
 * or packet. A closed set, because it is the `reason` label of
 * `sgw_log_occurrences_total` and `sgw_log_suppressed_total`.
 */
export type RepeatedLogReason =
  /** A gRPC request or StreamAudio stream refused with this catalogue code (UNAUTHENTICATED, INVALID_ARGUMENT, ...). */
  | `grpc-refused:${ErrorCode}`
  /** An RTP stream switched to another SSRC. */
  | 'rtp-ssrc-change'
  /** Bad input that ended an AudioHook, Twilio, audio fork or AudioSocket session, or its socket. */
  | 'audiohook-protocol-error'
  | 'twilio-protocol-error'
  | 'audio-fork-protocol-error'
  | 'audiosocket-bad-input'
  /** A SIPREC request answered with a 4xx/5xx (bad SIP, source not allowed, nothing to record, drain). */
  | 'siprec-refused'
  | 'ingest-socket-error'
  /** An AudioHook client's own `error` message, and its `update` messages. */
  | 'audiohook-client-error'
  | 'audiohook-update'
  /** A subscriber of the event bus threw (source: the listener's name). */
  | 'event-listener-error'
  /** The cluster's Redis: a connection or command error (source: the connection), an unreadable stream entry. */
  | 'event-bus-error'
  /** The outgoing event buffer overflowed while Redis was unreachable (source: the bus). */
  | 'event-bus-dropped'
  /** A webhook attempt that failed (per subscription), and a delivery dropped because the queue was full. */
  | 'webhook-failed'
  | 'webhook-dropped';

export type RepeatedLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLimiterOptions {
  readonly metrics: GatewayMetrics;
  /** Repeats of a (reason, source) within this long after its logged line are suppressed, then summarised. Default 60 000. */
  readonly windowMs?: number;
  /** Distinct (reason, source) keys tracked; past it new sources share one entry per reason (source `*`). Default 1000. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly reason: RepeatedLogReason;
  readonly source: string;
  readonly level: RepeatedLogLevel;
  readonly logger: Logger;
  readonly msg: string;
  windowStart: number;
  suppressed: number;
}

/** Source of the shared entry per reason once the key table is full. */
export const OVERFLOW_SOURCE = '*';

/**
 * Rate-limits log lines a remote party can repeat at will, per reason and
 * source (a client address, an RTP source): the first occurrence of a
 * (reason, source) is logged as it is (plus `source`); repeats within the
 * window are not written but counted, and when the window ends one summary
 * line says how many were suppressed (`suppressed`, `windowS`) and a new
 * window starts; a window without repeats forgets the key, so the next
 * occurrence is logged in full again. So a flood from one source writes at
 * most two lines a window whatever its rate.
 *
 * Every occurrence, written or not, is counted in
 * `sgw_log_occurrences_total{reason}`; the suppressed ones also in
 * `sgw_log_suppressed_total{reason}`.
 *
 * Bounded: at most `maxKeys` keys (default 1000) plus one overflow entry
 * per reason. Once the table is full, occurrences from sources it does not
 * hold share their reason's overflow entry (source `*`), so a flood from
 * many addresses is still one line and one summary a window per reason, and
 * still counted in full.
 */
export class LogLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LogLimiterOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Logs `msg` with `fields` on `logger` at `level`, unless the same reason
   * from the same source was logged less than a window ago.
   */
  log(logger: Logger, level: RepeatedLogLevel, reason: RepeatedLogReason, source: string, fields: Readonly<Record<string, unknown>>, msg: string): void {
    const { metrics } = this.options;
    metrics.logOccurrences.inc({ reason });
    let key = entryKey(reason, source);
    let entry = this.entries.get(key);
    if (entry === undefined && this.entries.size >= this.maxKeys) {
      source = OVERFLOW_SOURCE;
      key = entryKey(reason, source);
      entry = this.entries.get(key);
    }
    if (entry !== undefined) {
      entry.suppressed++;
      metrics.logSuppressed.inc({ reason });
      return;
    }
    this.entries.set(key, { reason, source, level, logger, msg, windowStart: this.now(), suppressed: 0 });
    logger[level]({ ...fields, source }, msg);
    this.arm();
  }

  /** Ends every window now: one summary line per key with suppressed repeats. */
  flush(): void {
    for (const [key, entry] of this.entries) {
      this.summarise(entry);
      this.entries.delete(key);
    }
    this.disarm();
  }

  /** Writes the pending summaries and stops the timer. Idempotent. */
  close(): void {
    this.flush();
  }

  /** Keys tracked now (for tests and the bound). */
  get size(): number {
    return this.entries.size;
  }

  /** Ends the windows that are over. */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (now - entry.windowStart < this.windowMs) continue;
      if (entry.suppressed === 0) {
        this.entries.delete(key);
        continue;
      }
      this.summarise(entry);
      entry.suppressed = 0;
      entry.windowStart = now;
    }
    if (this.entries.size === 0) this.disarm();
  }

  private summarise(entry: Entry): void {
    if (entry.suppressed === 0) return;
    const windowS = Math.round((this.now() - entry.windowStart) / 1000);
    entry.logger[entry.level]({ source: entry.source, suppressed: entry.suppressed, windowS }, `${entry.msg} (repeated ${entry.suppressed} more times in ${windowS} s; not logged)`);
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    // A tenth of the window: a summary comes at most 10 % late.
    this.timer = setInterval(() => this.sweep(), Math.max(100, Math.round(this.windowMs / 10)));
    this.timer.unref();
  }

  private disarm(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function entryKey(reason: string, source: string): string {
  return `${reason}\u0000${source}`;
}

/** The address of a gRPC peer (`ipv4:1.2.3.4:5678`, `[::1]:5678`, `1.2.3.4:5678`), without its port: one client reconnecting is one source. */
export function peerAddress(peer: string): string {
  const bare = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (bracketed !== null) return bracketed[1] ?? bare;
  const colons = bare.split(':').length - 1;
  return colons === 1 ? bare.slice(0, bare.lastIndexOf(':')) : bare;
}
