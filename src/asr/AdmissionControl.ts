import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import type { SpeechService } from './SpeechService.js';

export interface AdmissionControlOptions {
  /** Whose open streams and cumulative accounting are read. */
  readonly speech: Pick<SpeechService, 'usage'>;
  /**
   * Processing capacity the recognisers may use in all (cores for a local
   * engine), overriding the default of `headroom` × the service's capacity.
   */
  readonly capacity?: number;
  /** Share of the service's capacity admitted when `capacity` is not given. Default 0.85. */
  readonly headroom?: number;
  /**
   * Cores one leg is assumed to need until measurements exist (its real-time
   * factor): a leg produces one second of audio per second.
   */
  readonly priorLegCost: number;
  /** Weight of a new measurement in the moving estimate (0..1). */
  readonly smoothing?: number;
  /** Audio a measurement must cover to count, seconds. */
  readonly minAudioSeconds?: number;
  /** Where load and capacity are reported at each sample, so operators see how near the limit an instance runs. */
  readonly metrics?: Pick<GatewayMetrics, 'asrLoadCores' | 'asrCapacityCores'>;
}

/**
 * Admission control for recognition: a new call is refused with
 * RESOURCE_EXHAUSTED when its legs would push the predicted ASR load past
 * capacity, so that the calls already running keep their latency.
 *
 * Predicted load = open streams × measured cost per leg, where the cost is a
 * moving average of processing seconds per audio second (the real-time
 * factor) from the speech service's own accounting. Counting open streams
 * rather than current CPU also covers calls that were admitted but whose RTP
 * has not yet started.
 */
export class AdmissionControl {
  private costPerLeg: number;
  private last: { audio: number; processing: number } | undefined;
  private readonly smoothing: number;
  private readonly minAudioSeconds: number;
  private readonly headroom: number;

  constructor(private readonly options: AdmissionControlOptions) {
    this.costPerLeg = options.priorLegCost;
    this.smoothing = options.smoothing ?? 0.2;
    this.minAudioSeconds = options.minAudioSeconds ?? 5;
    this.headroom = options.headroom ?? 0.85;
    this.report();
  }

  /** Read on each decision: a service's capacity may change (e.g. servers of a farm going down). */
  get capacity(): number {
    return this.options.capacity ?? this.options.speech.usage().capacity * this.headroom;
  }

  /** Cores one leg is currently estimated to need. */
  get legCost(): number {
    return this.costPerLeg;
  }

  /** Folds the service's accounting since the last sample into the estimate; call periodically. */
  sample(): void {
    this.report();
    const { audioSeconds, processingSeconds } = this.options.speech.usage();
    if (this.last === undefined) {
      this.last = { audio: audioSeconds, processing: processingSeconds };
      return;
    }
    const audio = audioSeconds - this.last.audio;
    if (audio < this.minAudioSeconds) return;
    const measured = (processingSeconds - this.last.processing) / audio;
    this.last = { audio: audioSeconds, processing: processingSeconds };
    if (Number.isFinite(measured) && measured >= 0) this.costPerLeg += (measured - this.costPerLeg) * this.smoothing;
  }

  /** Predicted cores in use by the open streams. */
  get load(): number {
    return this.openStreams() * this.costPerLeg;
  }

  private report(): void {
    this.options.metrics?.asrLoadCores.set(this.load);
    this.options.metrics?.asrCapacityCores.set(this.capacity);
  }

  private openStreams(): number {
    return this.options.speech.usage().openStreams;
  }

  /** @throws GatewayError SGW_ASR_OVERLOADED when `legs` more would exceed capacity. */
  admit(legs: number): void {
    const open = this.openStreams();
    const predicted = (open + legs) * this.costPerLeg;
    const capacity = this.capacity;
    if (predicted > capacity + 1e-9) {
      throw new GatewayError(
        'SGW_ASR_OVERLOADED',
        `speech recognition is at capacity: ${open} legs running at ~${this.costPerLeg.toFixed(2)} cores each; ` +
          `${legs} more would need ${predicted.toFixed(2)} of ${capacity.toFixed(2)} cores. Retry later or add gateway capacity`,
      );
    }
  }
}
