/**
 * Energy-based voice activity per leg, on the call's timeline. Good enough to
 * tell who is talking when (talk time, overtalk, dead air, loudness); the ASR
 * path keeps its own endpointing.
 *
 * A frame is speech when it is at least `marginDb` above the leg's adaptive
 * noise floor and above an absolute gate. Short gaps inside speech are bridged
 * (hangover) so that a pause between words is not a turn change.
 */
export interface VoiceActivityOptions {
  readonly marginDb?: number;
  readonly absoluteGateDb?: number;
  readonly hangoverMs?: number;
}

export class VoiceActivity {
  private noiseFloorDb = -60;
  private lastSpeechEndMs = -Infinity;
  private speechStartMs: number | undefined;
  /** Total speech on this leg, ms. */
  talkMs = 0;
  private readonly marginDb: number;
  private readonly absoluteGateDb: number;
  private readonly hangoverMs: number;

  constructor(options: VoiceActivityOptions = {}) {
    this.marginDb = options.marginDb ?? 12;
    this.absoluteGateDb = options.absoluteGateDb ?? -45;
    this.hangoverMs = options.hangoverMs ?? 300;
  }

  /**
   * Feeds one frame; returns whether the leg counts as talking at its end.
   * `atMs` is the frame's start on the call timeline.
   */
  push(atMs: number, durationMs: number, levelDb: number): boolean {
    const isSpeech = levelDb >= this.absoluteGateDb && levelDb >= this.noiseFloorDb + this.marginDb;
    // The floor follows quiet frames quickly and loud ones very slowly.
    const rate = levelDb < this.noiseFloorDb ? 0.2 : isSpeech ? 0.0005 : 0.02;
    this.noiseFloorDb += (levelDb - this.noiseFloorDb) * rate;
    const endMs = atMs + durationMs;
    if (isSpeech) {
      if (this.speechStartMs === undefined) this.speechStartMs = atMs;
      this.talkMs += durationMs;
      this.lastSpeechEndMs = endMs;
      return true;
    }
    if (this.speechStartMs !== undefined && endMs - this.lastSpeechEndMs > this.hangoverMs) this.speechStartMs = undefined;
    return this.speechStartMs !== undefined;
  }

  /** Call time (ms) at which the leg last had a speech frame. */
  get lastSpeechAtMs(): number {
    return this.lastSpeechEndMs;
  }
}
