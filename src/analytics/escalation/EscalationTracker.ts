/**
 * Per-call escalation score with levels and hysteresis.
 *
 * Every signal adds a weight to a score that decays exponentially (half-life
 * `halfLifeMs`), so an angry minute long ago counts for little and a run of
 * signals adds up. The score maps to levels with separate thresholds up and
 * down and a minimum dwell time before any fall, so a supervisor wall does not
 * flap between levels on every sentence.
 */

export type EscalationSignalKind = 'cue' | 'anger' | 'raised_voice' | 'overtalk' | 'long_silence' | 'repeat_contact' | 'negative_sentiment';

export interface EscalationSignal {
  readonly kind: EscalationSignalKind;
  /** Call time, ms. */
  readonly atMs: number;
  /** Contribution to the score before decay (0..1). */
  readonly weight: number;
  /** Human-readable reason: the cue intent, the words, the dB rise. */
  readonly detail: string;
}

export const ESCALATION_LEVELS = ['calm', 'elevated', 'high', 'critical'] as const;
export type EscalationLevel = (typeof ESCALATION_LEVELS)[number];

export interface EscalationChange {
  readonly level: EscalationLevel;
  readonly previous: EscalationLevel;
  readonly score: number;
  /** The signals still contributing most to the score, strongest first. */
  readonly reasons: readonly EscalationSignal[];
  readonly atMs: number;
  readonly rising: boolean;
}

export interface EscalationOptions {
  readonly halfLifeMs?: number;
  /** Score at which each level above calm is entered. */
  readonly upThresholds?: readonly [number, number, number];
  /** A level is left only when the score is this far below its entry threshold. */
  readonly hysteresis?: number;
  /** Minimum time at a level before it may fall. */
  readonly minDwellMs?: number;
}

const MAX_SIGNALS = 64;

export class EscalationTracker {
  private score = 0;
  private scoreAtMs = 0;
  private levelIndex = 0;
  private levelSinceMs = 0;
  private peakIndex = 0;
  private peakScore = 0;
  private peakReasons: readonly EscalationSignal[] = [];
  /** Recent signals, bounded; the oldest is forgotten first. */
  private readonly signals: EscalationSignal[] = [];
  private readonly halfLifeMs: number;
  private readonly up: readonly [number, number, number];
  private readonly hysteresis: number;
  private readonly minDwellMs: number;

  constructor(options: EscalationOptions = {}) {
    this.halfLifeMs = options.halfLifeMs ?? 90_000;
    this.up = options.upThresholds ?? [0.3, 0.6, 0.9];
    this.hysteresis = options.hysteresis ?? 0.1;
    this.minDwellMs = options.minDwellMs ?? 20_000;
  }

  get level(): EscalationLevel {
    return ESCALATION_LEVELS[this.levelIndex] as EscalationLevel;
  }

  get peak(): { level: EscalationLevel; score: number; reasons: readonly EscalationSignal[] } {
    return { level: ESCALATION_LEVELS[this.peakIndex] as EscalationLevel, score: this.peakScore, reasons: this.peakReasons };
  }

  /** The score decayed to `atMs`. */
  scoreAt(atMs: number): number {
    const elapsed = Math.max(0, atMs - this.scoreAtMs);
    return this.score * Math.pow(0.5, elapsed / this.halfLifeMs);
  }

  /** Adds a signal; returns the level change it causes, if any. */
  add(signal: EscalationSignal): EscalationChange | undefined {
    const atMs = Math.max(signal.atMs, this.scoreAtMs);
    this.score = Math.min(1.5, this.scoreAt(atMs) + Math.max(0, signal.weight));
    this.scoreAtMs = atMs;
    this.peakScore = Math.max(this.peakScore, this.score);
    this.signals.push(signal);
    if (this.signals.length > MAX_SIGNALS) this.signals.shift();
    return this.evaluate(atMs);
  }

  /** Lets time pass (decay); returns a level change, if any. Call periodically. */
  tick(atMs: number): EscalationChange | undefined {
    if (atMs <= this.scoreAtMs) return undefined;
    this.score = this.scoreAt(atMs);
    this.scoreAtMs = atMs;
    return this.evaluate(atMs);
  }

  private evaluate(atMs: number): EscalationChange | undefined {
    const score = this.score;
    let target = this.levelIndex;
    while (target < this.up.length && score >= (this.up[target] as number)) target++;
    if (target === this.levelIndex && this.levelIndex > 0) {
      // Falling: only below the entry threshold minus hysteresis, and after the dwell.
      const entry = this.up[this.levelIndex - 1] as number;
      if (score < entry - this.hysteresis && atMs - this.levelSinceMs >= this.minDwellMs) {
        target = this.levelIndex - 1;
        while (target > 0 && score < (this.up[target - 1] as number) - this.hysteresis) target--;
      }
    }
    if (target === this.levelIndex) return undefined;
    const previous = this.level;
    const rising = target > this.levelIndex;
    this.levelIndex = target;
    this.levelSinceMs = atMs;
    const reasons = this.topReasons(atMs);
    if (target > this.peakIndex) {
      this.peakIndex = target;
      this.peakReasons = reasons;
    }
    return { level: this.level, previous, score: Math.round(score * 1000) / 1000, reasons, atMs, rising };
  }

  private topReasons(atMs: number): EscalationSignal[] {
    return this.signals
      .map((s) => ({ s, now: s.weight * Math.pow(0.5, Math.max(0, atMs - s.atMs) / this.halfLifeMs) }))
      .filter((x) => x.now >= 0.02)
      .sort((a, b) => b.now - a.now)
      .slice(0, 5)
      .map((x) => x.s);
  }
}
