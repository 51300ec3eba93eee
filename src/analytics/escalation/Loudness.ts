/**
 * Raised voice: a speaker's loudness rising against their own baseline, not
 * against an absolute level (handsets, gains and voices differ by 20 dB).
 *
 * The baseline is the mean level of the first `baselineMs` of the leg's
 * speech, then adapts slowly. A raise is reported when the speech level over
 * the last `windowMs` of speech exceeds the baseline by `raiseDb`; it is
 * reported again only after the level has come back down.
 */
export interface LoudnessOptions {
  readonly baselineMs?: number;
  readonly windowMs?: number;
  readonly raiseDb?: number;
}

export class Loudness {
  private baselineDb: number | undefined;
  private baselineSumDb = 0;
  private baselineSpeechMs = 0;
  private readonly window: { db: number; ms: number }[] = [];
  private windowMs = 0;
  private raised = false;
  private readonly options: Required<LoudnessOptions>;

  constructor(options: LoudnessOptions = {}) {
    this.options = { baselineMs: options.baselineMs ?? 8000, windowMs: options.windowMs ?? 1500, raiseDb: options.raiseDb ?? 6 };
  }

  /** Feeds one speech frame; returns the rise in dB when a raise starts, else undefined. */
  pushSpeech(levelDb: number, durationMs: number): number | undefined {
    const { baselineMs, windowMs, raiseDb } = this.options;
    if (this.baselineDb === undefined) {
      this.baselineSumDb += levelDb * durationMs;
      this.baselineSpeechMs += durationMs;
      if (this.baselineSpeechMs >= baselineMs) this.baselineDb = this.baselineSumDb / this.baselineSpeechMs;
      return undefined;
    }
    this.window.push({ db: levelDb, ms: durationMs });
    this.windowMs += durationMs;
    while (this.windowMs > windowMs && this.window.length > 1) this.windowMs -= (this.window.shift() as { ms: number }).ms;
    if (this.windowMs < windowMs) return undefined;
    const current = this.window.reduce((sum, f) => sum + f.db * f.ms, 0) / this.windowMs;
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
