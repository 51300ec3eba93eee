import type { Logger } from '../logger.js';
import type { LegRole } from '../events.js';

/** DTMF sequences that start and stop a secure pause (config `SECURE_PAUSE_DTMF`, e.g. `*7,#`). */
export interface SecurePauseSequences {
  readonly start: string;
  readonly stop: string;
}

const DTMF_SEQUENCE = /^[0-9*#A-D]{1,8}$/;

/**
 * Parses `SECURE_PAUSE_DTMF`: `off` (or empty), or `<start>,<stop>` DTMF
 * sequences of 1-8 keys each, e.g. `*7,#`.
 *
 * @returns the sequences, undefined for off, or what was expected (for "must be ...").
 */
export function parseSecurePauseSequences(value: string): SecurePauseSequences | undefined | string {
  const v = value.trim().toUpperCase();
  if (v === '' || v === 'OFF') return undefined;
  const [start, stop, ...rest] = v.split(',').map((s) => s.trim());
  if (start === undefined || stop === undefined || rest.length > 0) return 'off, or <start>,<stop> DTMF sequences such as *7,#';
  if (!DTMF_SEQUENCE.test(start) || !DTMF_SEQUENCE.test(stop)) return 'sequences of 1-8 of the keys 0-9 * # A-D';
  if (start === stop) return 'two different sequences';
  return { start, stop };
}

/** The call the policy acts on. */
export interface SecurePauseTarget {
  /** Suspends every leg with reason `secure-pause`. */
  suspend(): void;
  /** Resumes every leg. */
  resume(): void;
  /** Whether a leg is in a secure pause now (by DTMF or the control plane). */
  isSecurePaused(): boolean;
}

/**
 * PCI DSS secure pause driven by the keypad, one per call: the agent (or
 * an IVR) keys the start sequence before the customer types the card number,
 * and the stop sequence after it. While paused, every leg of the call is
 * suspended (audio → silence before recognition, digits masked in `dtmf`
 * events); the resume marks the hole with a `transcript.gap` of reason
 * `secure-pause`. The call's keys are watched on both legs, in the order
 * they arrive. A pause started over gRPC (SetRecognitionPaused) is ended by
 * the stop sequence too, since the state is the call's, not the policy's.
 *
 * Digits are kept only as long as the longer sequence, and never logged.
 */
export class SecurePausePolicy {
  #recent = '';
  readonly #keep: number;

  constructor(
    private readonly sequences: SecurePauseSequences,
    private readonly target: SecurePauseTarget,
    private readonly logger?: Logger,
  ) {
    this.#keep = Math.max(sequences.start.length, sequences.stop.length);
  }

  /** One key press on any leg of the call. */
  onDigit(digit: string, leg: LegRole): void {
    this.#recent = (this.#recent + digit.toUpperCase()).slice(-this.#keep);
    const paused = this.target.isSecurePaused();
    if (!paused && this.#recent.endsWith(this.sequences.start)) {
      this.#recent = '';
      this.logger?.info({ leg }, 'secure pause started by DTMF');
      this.target.suspend();
    } else if (paused && this.#recent.endsWith(this.sequences.stop)) {
      this.#recent = '';
      this.logger?.info({ leg }, 'secure pause ended by DTMF');
      this.target.resume();
    }
  }
}
