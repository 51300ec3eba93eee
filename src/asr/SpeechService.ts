import type { Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { RecognitionMode, RecognitionResult, SpotHit } from './types.js';

/**
 * Speech recognition as the rest of the gateway sees it: which languages,
 * open a stream per call leg, how loaded it is, whether it is healthy.
 *
 * Calls, legs and admission control depend on this and nothing below it, so
 * where recognition runs (worker threads here, child processes or a remote
 * server farm) is a choice of implementation. The local one is
 * `AsrWorkerPool` (src/asr/pool).
 */
export interface SpeechService {
  /** Engine label for logs and the `engine` metric label, e.g. `pocketsphinx`. */
  readonly engine: string;
  /** What the streams can deliver; consumers adapt instead of assuming one engine. */
  readonly capabilities: SpeechCapabilities;
  /** Languages a stream can be opened for. */
  readonly supportedLanguages: readonly Language[];
  /**
   * Opens a recognition stream; resolves once the recogniser is ready for audio.
   * @throws GatewayError SGW_LANGUAGE_UNSUPPORTED, SGW_INVALID_ARGUMENT,
   * SGW_SHUTTING_DOWN, or SGW_ASR_UNAVAILABLE.
   */
  openStream(options: OpenStreamOptions): Promise<RecognitionStream>;
  /** Open streams, cumulative cost and capacity: the inputs of admission control. */
  usage(): SpeechServiceUsage;
  /** For readiness checks and metrics; cheap, no I/O. */
  health(): SpeechServiceHealth;
  /** Ends every stream and frees the engines; resolves when they are gone. Idempotent. */
  close(): Promise<void>;
}

/** Where engines differ in what they give (after livekit agents' STTCapabilities). */
export interface SpeechCapabilities {
  /** Interim hypotheses (`final: false`) while an utterance is in progress. */
  readonly partials: boolean;
  /** Phrase spotting beside or instead of the transcript: modes `transcribe+spot` and `spot`, `onSpot`. */
  readonly spotting: boolean;
  /** Most lower-ranked hypotheses a final carries (`RecognitionResult.alternatives`); 0: none. */
  readonly alternatives: number;
}

export interface OpenStreamOptions {
  readonly language: Language;
  /** Rate (Hz) of the 16-bit mono PCM that will be written; the service resamples to its engine's. */
  readonly inputSampleRate: number;
  /** Logger for the stream's messages (e.g. the call's child logger). */
  readonly logger?: Logger;
  /** Default `transcribe`. Spotting modes need `spotPhrases` and `capabilities.spotting`. */
  readonly mode?: RecognitionMode;
  /** Phrases to spot (lower-case words), e.g. from `compileSpotPhrases`. */
  readonly spotPhrases?: readonly string[];
  /**
   * No intent is expected from this leg's speaker (the agent, with the shipped grammars): the
   * transcript is for the record, QA and the screens, and the service may recognise it more
   * cheaply (the local pocketsphinx pool: `POCKETSPHINX_AGENT_ARGS`). Default false.
   */
  readonly recordOnly?: boolean;
}

/**
 * One leg's recognition: write PCM, read results with `for await`. Result
 * and spot times are ms from the first sample written, across dropped audio
 * and engine restarts; audio never recognised is reported through `onGap`.
 * Implemented by `SpeechStream`. Single consumer.
 */
export interface RecognitionStream extends AsyncIterable<RecognitionResult> {
  readonly language: Language;
  readonly inputSampleRate: number;
  /**
   * Queues PCM at `inputSampleRate`; never throws, ignored after end()/close().
   * `transfer: true` hands the buffer over (it may be detached afterwards).
   * Past the backlog bound the chunk is dropped and counted, not queued.
   */
  write(pcm: Int16Array, options?: { readonly transfer?: boolean }): void;
  /** Flushes the utterance in progress as a final, then releases the recogniser. Idempotent. */
  end(): Promise<void>;
  /** Stops now, without a final flush; queued results stay readable. Idempotent. */
  close(): void;
  /** Phrases the spotter heard (spotting modes), called on arrival. */
  onSpot(listener: (hit: SpotHit) => void): void;
  /** Stretches of the stream that will never be recognised, so the transcript can mark them. */
  onGap(listener: (gap: SpeechGap) => void): void;
  /** Audio written but not yet processed, ms. */
  readonly bufferedAudioMs: number;
  /** Audio dropped by the backlog bound so far, ms. */
  readonly droppedAudioMs: number;
  /** Partials dropped because the consumer lagged. */
  readonly droppedResults: number;
}

/**
 * Why part of a stream was never recognised: `asr-worker-restart`, the audio
 * was in flight to an engine that died, hung or was lost (a remote server);
 * `asr-backlog`, the stream's backlog bound dropped it.
 */
export type SpeechGapReason = 'asr-worker-restart' | 'asr-backlog';

/** Stream time (ms) the recogniser never heard. */
export interface SpeechGap {
  readonly startMs: number;
  readonly endMs: number;
  readonly reason: SpeechGapReason;
}

/**
 * Cumulative accounting for admission control, which predicts load as open
 * streams × measured cost per leg (processing seconds per audio second) and
 * compares it with `capacity`.
 */
export interface SpeechServiceUsage {
  /** Streams open now, including admitted legs whose audio has not started. */
  readonly openStreams: number;
  /** Audio processed since the service started, seconds. */
  readonly audioSeconds: number;
  /** Engine time spent on that audio, seconds (worker CPU for a local engine). */
  readonly processingSeconds: number;
  /** Processing seconds the service can do per second (cores for a local engine: one per worker thread). */
  readonly capacity: number;
}

export interface SpeechServiceHealth {
  /**
   * `ok`: every engine instance is up; `degraded`: some are down or
   * restarting but streams can still be opened; `down`: none can.
   */
  readonly status: 'ok' | 'degraded' | 'down';
  /** Engine instances (worker threads, processes, servers) configured. */
  readonly instances: number;
  /** Instances up and taking streams. */
  readonly ready: number;
  /** Instances replaced (crash, hang, reconnect) since start. */
  readonly restarts: number;
}
