import type { Language } from '../../language.js';
import type { RecognitionResult } from '../types.js';

/**
 * A speech recogniser as used inside an ASR worker thread. Implementations
 * wrap native libraries, so every call is synchronous and blocks the thread;
 * that is why they only ever run in workers.
 */
export interface Engine {
  readonly name: string;
  /** Sample rate (Hz) recognisers want by default; `Recognizer.sampleRate` is authoritative per stream. */
  readonly sampleRate: number;
  supports(language: Language): boolean;
  /** Throws a `GatewayError` (SGW_LANGUAGE_UNSUPPORTED / SGW_ASR_UNAVAILABLE) when it cannot. */
  createRecognizer(language: Language, options?: RecognizerOptions): Recognizer;
  /** Frees every native resource, including recognisers not yet freed. Idempotent. */
  free(): void;
}

export interface RecognizerOptions {
  /**
   * Minimum audio (ms) between two partial-hypothesis extractions. Getting a
   * hypothesis costs a lattice/back-trace walk, so doing it per 20 ms chunk
   * would dominate CPU. Default 150.
   */
  readonly partialIntervalMs?: number;
}

/**
 * One continuous recognition stream. Feeds 16-bit mono PCM at `sampleRate` and
 * returns partial results while an utterance is in progress and a final at
 * each endpoint. Times are ms from the first sample fed to this recogniser.
 */
export interface Recognizer {
  /** Rate (Hz) `accept` expects. */
  readonly sampleRate: number;
  accept(pcm: Int16Array): RecognitionResult[];
  /** Ends the utterance in progress (final result if it had speech); the recogniser stays usable. */
  finish(): RecognitionResult[];
  /** Idempotent. */
  free(): void;
}

export const DEFAULT_PARTIAL_INTERVAL_MS = 150;

/** Recognisers emit dictionary variants like `read(2)`; the "(2)" is not part of the word. */
export function stripVariant(word: string): string {
  return word.replace(/\(\d+\)$/, '');
}
