/**
 * Messages between the main thread (AsrWorkerPool) and an ASR worker.
 * Requests carry a `requestId` that the matching reply echoes; audio and
 * results are fire-and-forget and keyed by `streamId`. Ordering per worker is
 * FIFO in both directions, which the pool relies on (e.g. every `results` of a
 * stream arrives before its `ended`).
 */
import type { ErrorCode } from '../../errors.js';
import type { Language } from '../../language.js';
import type { EngineConfig, RecognitionMode, RecognitionResult, SpotHit } from '../types.js';
import type { SpeechGateTuning } from '../../audio/vad/SpeechGate.js';

export type StreamId = number;
export type RequestId = number;

// ---- main -> worker ----

export interface InitMessage {
  readonly type: 'init';
  readonly requestId: RequestId;
  readonly engine: EngineConfig;
  /** Minimum audio between partial hypotheses (ms). */
  readonly partialIntervalMs?: number;
  /** N-best hypotheses after the best to give with each final. */
  readonly alternatives?: number;
}

export interface OpenMessage {
  readonly type: 'open';
  readonly requestId: RequestId;
  readonly streamId: StreamId;
  readonly language: Language;
  readonly inputSampleRate: number;
  /**
   * Voice-activity gate between resampler and recogniser (src/audio/vad/SpeechGate.ts):
   * on by default (absent or tuning), `false` feeds the recogniser everything.
   */
  readonly vad?: SpeechGateTuning | false;
  /** Free transcript, spotting beside it, or spotting alone. */
  readonly mode: RecognitionMode;
  /** Phrases for the spotter (lower-case words); required unless mode is `transcribe`. */
  readonly spotPhrases?: readonly string[];
  /** The transcript is for the record only (`OpenStreamOptions.recordOnly`): a cheaper search where the engine has one. */
  readonly recordOnly?: boolean;
  /**
   * Telephone profile (src/audio/HighBandFill.ts): when the input rate is below
   * the engine's, noise at this level (dBFS) fills the empty upper band of the
   * spotter's audio (the free transcript gets the audio as it is).
   * Absent: no fill.
   */
  readonly narrowbandFillDbfs?: number;
  /** A wideband stream on an engine with a telephone profile probes its first speech and switches to that profile if it is telephone speech (StreamSink). */
  readonly detectNarrowband?: boolean;
}

/** 16-bit mono PCM at the stream's input rate; `pcm` is transferred, not copied. */
export interface AudioMessage {
  readonly type: 'audio';
  readonly streamId: StreamId;
  readonly pcm: ArrayBuffer;
}

/** Flush the utterance in progress (final result), then reply `ended`. The stream stays open. */
export interface EndMessage {
  readonly type: 'end';
  readonly requestId: RequestId;
  readonly streamId: StreamId;
}

/** Free the stream's recogniser; no reply. */
export interface CloseMessage {
  readonly type: 'close';
  readonly streamId: StreamId;
}

export interface PingMessage {
  readonly type: 'ping';
  readonly seq: number;
}

/** Free every recogniser and the engine, then exit the worker with code 0. */
export interface ShutdownMessage {
  readonly type: 'shutdown';
}

/** Test hooks: simulate a worker that exits, crashes in native code (abort: process isolation only) or hangs. */
export interface DebugMessage {
  readonly type: 'debug';
  readonly action: 'exit' | 'crash' | 'hang';
  /** For `hang`: how long to block the thread. */
  readonly ms?: number;
}

export type ToWorker =
  | InitMessage
  | OpenMessage
  | AudioMessage
  | EndMessage
  | CloseMessage
  | PingMessage
  | ShutdownMessage
  | DebugMessage;

// ---- worker -> main ----

export interface ReadyMessage {
  readonly type: 'ready';
  readonly requestId: RequestId;
  readonly engine: string;
}

export interface InitErrorMessage {
  readonly type: 'initError';
  readonly requestId: RequestId;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface OpenedMessage {
  readonly type: 'opened';
  readonly requestId: RequestId;
  readonly streamId: StreamId;
  /** Rate the recogniser runs at (input is resampled to it). */
  readonly engineSampleRate: number;
  /** Spot phrases left out because the model does not know a word of them. */
  readonly spotSkipped?: readonly string[];
}

export interface OpenErrorMessage {
  readonly type: 'openError';
  readonly requestId: RequestId;
  readonly streamId: StreamId;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface EndedMessage {
  readonly type: 'ended';
  readonly requestId: RequestId;
  readonly streamId: StreamId;
}

export interface ResultsMessage {
  readonly type: 'results';
  readonly streamId: StreamId;
  readonly results: RecognitionResult[];
}

/** Phrases the stream's spotter heard, in stream time (the gate's skips mapped back). */
export interface SpotsMessage {
  readonly type: 'spots';
  readonly streamId: StreamId;
  readonly hits: SpotHit[];
}

/** One audio message consumed: input samples and wall time spent resampling + recognising. */
export interface ProcessedMessage {
  readonly type: 'processed';
  readonly streamId: StreamId;
  readonly samples: number;
  readonly processingMs: number;
  /** Audio (s) the voice-activity gate dropped while handling this message; absent without a gate. */
  readonly vadSkippedSeconds?: number;
}

/** A non-fatal failure the worker handled (logged by the pool). */
export interface WorkerErrorMessage {
  readonly type: 'error';
  readonly streamId?: StreamId;
  readonly message: string;
}

export interface PongMessage {
  readonly type: 'pong';
  readonly seq: number;
}

export type FromWorker =
  | ReadyMessage
  | InitErrorMessage
  | OpenedMessage
  | OpenErrorMessage
  | EndedMessage
  | ResultsMessage
  | SpotsMessage
  | ProcessedMessage
  | WorkerErrorMessage
  | PongMessage
  | BandwidthMessage;

/** What a wideband stream's first speech turned out to be (once per probed stream). */
export interface BandwidthMessage {
  readonly type: 'bandwidth';
  readonly streamId: StreamId;
  readonly bandwidth: 'narrowband' | 'wideband';
  /** Energy above the telephone band relative to all of it. */
  readonly highBandDb: number;
  /** The telephone profile could not be started (the stream kept the wideband one). */
  readonly error?: string;
}
