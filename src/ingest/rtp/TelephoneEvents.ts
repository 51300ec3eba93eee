/**
 * RFC 4733 telephone-events (DTMF) of one RTP stream, turned into one report
 * per key press.
 *
 * An event is sent as a series of packets that all carry the RTP timestamp of
 * the event's start: a first one (marker bit), updates with a growing
 * duration, and an end packet (E bit) that senders repeat, usually three
 * times, for robustness (§2.5.1.4). Packets may be lost or reordered, and a
 * long event may be split into segments (§2.5.1.3), so:
 *
 * - a press is identified by (SSRC, RTP timestamp); it is reported once, on
 *   its first end packet, with the longest duration seen;
 * - redundant end packets and updates of an already reported press are
 *   counted as `redundant` and ignored (the last 16 presses are remembered);
 * - a press whose end packets were all lost is reported when the next press
 *   starts, when {@link TelephoneEvents.expire} finds it idle for
 *   `idleEndMs`, or on {@link TelephoneEvents.flush} (end of leg).
 *
 * Events other than the 16 DTMF keys (flash, tones) are counted as `ignored`.
 *
 * @see
 * - [RFC 4733 section 2.3](https://datatracker.ietf.org/doc/html/rfc4733#section-2.3) (payload format)
 * - [RFC 4733 section 3.2](https://datatracker.ietf.org/doc/html/rfc4733#section-3.2) (DTMF event codes)
 */

/** Outcome of one telephone-event packet: the `outcome` label of `sgw_rtp_telephone_events_total`. */
export type TelephoneEventOutcome = 'digit' | 'update' | 'redundant' | 'ignored' | 'malformed';

export const TELEPHONE_EVENT_OUTCOMES: readonly TelephoneEventOutcome[] = ['digit', 'update', 'redundant', 'ignored', 'malformed'];

/** The usual dynamic payload type of telephone-event in SDP offers. */
export const DEFAULT_TELEPHONE_EVENT_PT = 101;

/** DTMF digit for RFC 4733 event codes 0-15. */
const DIGITS = '0123456789*#ABCD';

/** One key press, reported once. */
export interface TelephoneEventPress {
  readonly digit: string;
  /** When the first packet of the press arrived (`Date.now()` style). */
  readonly receivedAt: number;
  /** Longest duration seen, in ms. */
  readonly durationMs: number;
  /** RTP timestamp of the event start. */
  readonly rtpTimestamp: number;
}

export interface TelephoneEventsOptions {
  /** RTP clock of the event stream (the audio's clock: 8000, or 48000 for Opus). */
  readonly clockRate: number;
  readonly onPress: (press: TelephoneEventPress) => void;
  /** A started press without an end packet is reported after this long without packets (default 1000 ms). */
  readonly idleEndMs?: number;
}

interface Pending {
  readonly ssrc: number;
  readonly timestamp: number;
  readonly digit: string;
  readonly receivedAt: number;
  durationTicks: number;
  lastAt: number;
}

const REMEMBERED = 16;
const PAYLOAD_BYTES = 4;

export class TelephoneEvents {
  readonly #clockRate: number;
  readonly #onPress: (press: TelephoneEventPress) => void;
  readonly #idleEndMs: number;
  #pending: Pending | undefined;
  /** Keys `ssrc:timestamp` of recently reported presses, oldest first. */
  readonly #reported: string[] = [];

  constructor(options: TelephoneEventsOptions) {
    this.#clockRate = options.clockRate;
    this.#onPress = options.onPress;
    this.#idleEndMs = options.idleEndMs ?? 1000;
  }

  /**
   * Offers one telephone-event payload of stream `ssrc` with RTP timestamp
   * `timestamp`, received at `now`. Returns what became of it.
   */
  push(ssrc: number, timestamp: number, payload: Uint8Array, now: number): TelephoneEventOutcome {
    // A payload may hold several 4-byte events (RFC 4733 §2.5.1.5 for
    // multiple events of one packet is rare, RFC 2198 redundancy uses another
    // payload type): only the first is read, the rest must still be whole.
    if (payload.length < PAYLOAD_BYTES || payload.length % PAYLOAD_BYTES !== 0) return 'malformed';
    const event = payload[0] ?? 0;
    const end = ((payload[1] ?? 0) & 0x80) !== 0;
    const duration = ((payload[2] ?? 0) << 8) | (payload[3] ?? 0);
    const digit = event < DIGITS.length ? DIGITS[event] : undefined;
    if (digit === undefined) return 'ignored';

    const key = `${ssrc}:${timestamp >>> 0}`;
    if (this.#reported.includes(key)) return 'redundant';

    let pending = this.#pending;
    if (pending !== undefined && (pending.ssrc !== ssrc || pending.timestamp !== timestamp >>> 0)) {
      // A new press started while the previous one never saw its end.
      this.#report(pending);
      pending = undefined;
    }
    if (pending === undefined) {
      pending = { ssrc, timestamp: timestamp >>> 0, digit, receivedAt: now, durationTicks: duration, lastAt: now };
      this.#pending = pending;
    } else {
      pending.durationTicks = Math.max(pending.durationTicks, duration);
      pending.lastAt = now;
    }
    if (end) {
      this.#report(pending);
      return 'digit';
    }
    return 'update';
  }

  /** Reports a started press that has been idle for `idleEndMs` (its end packets were lost). */
  expire(now: number): void {
    const pending = this.#pending;
    if (pending !== undefined && now - pending.lastAt >= this.#idleEndMs) this.#report(pending);
  }

  /** Reports a started press now (end of the leg). */
  flush(): void {
    if (this.#pending !== undefined) this.#report(this.#pending);
  }

  /** The digit of a press started but not reported yet. */
  get pendingDigit(): string | undefined {
    return this.#pending?.digit;
  }

  #report(pending: Pending): void {
    this.#pending = undefined;
    this.#reported.push(`${pending.ssrc}:${pending.timestamp}`);
    if (this.#reported.length > REMEMBERED) this.#reported.shift();
    this.#onPress({
      digit: pending.digit,
      receivedAt: pending.receivedAt,
      durationMs: Math.round((pending.durationTicks * 1000) / this.#clockRate),
      rtpTimestamp: pending.timestamp,
    });
  }
}
