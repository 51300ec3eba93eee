/** Presses a leg may report per second, sustained. */
export const DTMF_PRESSES_PER_SECOND = 20;
/** Presses a leg may report at once (bunched by the network or a batching client). */
export const DTMF_BURST = 10;

/**
 * The bound on one leg's DTMF presses: a token bucket of {@link DTMF_BURST}
 * presses refilled at {@link DTMF_PRESSES_PER_SECOND} a second. A person
 * keys at most about 10 a second, and ITU-T Q.24 needs 40 ms of tone and 40 ms
 * of pause per press (12.5 a second), so no real caller or auto-dialler
 * reaches it; a sender forging thousands of presses a second gets at most
 * 20 a second through (plus the first burst). Each transport reports a press
 * once, at its end where it has one (RFC 4733: the end packet).
 */
export class DtmfRateLimit {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly perSecond = DTMF_PRESSES_PER_SECOND,
    private readonly burst = DTMF_BURST,
  ) {
    this.tokens = burst;
  }

  /** Whether a press at `nowMs` may be reported; takes a token if so. */
  admit(nowMs: number): boolean {
    if (this.last !== undefined) this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, nowMs - this.last) * this.perSecond) / 1000);
    this.last = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
