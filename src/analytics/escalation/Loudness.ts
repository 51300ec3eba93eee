/**
 * Raised voice: a speaker's loudness rising against their own baseline, not
 * against an absolute level (handsets, gains and voices differ by 20 dB).
 *
 * The baseline is the mean level of the speaker's first turn (at least
 * `minBaselineMs` of speech) or of their first `baselineMs` of speech,
 * whichever ends first, then adapts slowly: so a caller who starts calm and
 * shouts in their second sentence is measured against the first. Levels are
 * averaged as power, not as dB, so quiet syllables do not mask loud ones. A raise is reported when the speech level over
 * the last `windowMs` of speech exceeds the baseline by `raiseDb`; it is
 * reported again only after the level has come back down.
 */
export interface LoudnessOptions {
  readonly baselineMs?: number;
  readonly minBaselineMs?: number;
  readonly windowMs?: number;
  readonly raiseDb?: number;
}

export class Loudness {
  private baselineDb: number | undefined;
  private baselinePower = 0;
  private baselineSpeechMs = 0;
  private readonly window: { power: number; ms: number }[] = [];
  private windowMs = 0;
  private raised = false;
  private readonly options: Required<LoudnessOptions>;

  constructor(options: LoudnessOptions = {}) {
    this.options = {
      baselineMs: options.baselineMs ?? 4000,
      minBaselineMs: options.minBaselineMs ?? 1500,
      windowMs: options.windowMs ?? 1500,
      raiseDb: options.raiseDb ?? 6,
    };
  }

  /**
   * Feeds one speech frame (`newTurn` on the first frame after a pause);
   * returns the rise in dB when a raise starts, else undefined.
   */
  pushSpeech(levelDb: number, durationMs: number, newTurn = false): number | undefined {
    const { baselineMs, minBaselineMs, windowMs, raiseDb } = this.options;
    const power = Math.pow(10, levelDb / 10);
    if (this.baselineDb === undefined && newTurn && this.baselineSpeechMs >= minBaselineMs) {
      this.baselineDb = toDb(this.baselinePower / this.baselineSpeechMs);
    }
    if (this.baselineDb === undefined) {
      this.baselinePower += power * durationMs;
      this.baselineSpeechMs += durationMs;
      if (this.baselineSpeechMs >= baselineMs) this.baselineDb = toDb(this.baselinePower / this.baselineSpeechMs);
      return undefined;
    }
    this.window.push({ power, ms: durationMs });
    this.windowMs += durationMs;
    while (this.windowMs > windowMs && this.window.length > 1) this.windowMs -= (this.window.shift() as { ms: number }).ms;
    if (this.windowMs < windowMs) return undefined;
    const current = toDb(this.window.reduce((sum, f) => sum + f.power * f.ms, 0) / this.windowMs);
    const rise = current - this.baselineDb;
    if (!this.raised && rise >= raiseDb) {
      this.raised = true;
      return rise;
    }
    if (this.raised && rise < raiseDb / 2) this.raised = false;
    // Adapt slowly so a whole call at one level becomes the baseline, but a shout does not.
    if (!this.raised) this.baselineDb += (levelDb - this.baselineDb) * 0.001;
    return undefined;
  }

  get baseline(): number | undefined {
    return this.baselineDb;
  }
}

function toDb(power: number): number {
  return power <= 1e-10 ? -100 : 10 * Math.log10(power);
}
