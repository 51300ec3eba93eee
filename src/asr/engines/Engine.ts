import type { Language } from '../../language.js';
import type { RecognitionResult, SpotHit } from '../types.js';

/**
 * A speech recogniser as used inside an ASR worker thread. Implementations
 * wrap native libraries, so every call is synchronous and blocks the thread;
 * that is why they only ever run in workers.
 */
export interface Engine {
  readonly name: string;
  /** Sample rate (Hz) recognisers want by default; `Recognizer.sampleRate` is authoritative per stream. */
  readonly sampleRate: number;
  /**
   * The engine reads telephone speech better when told (`narrowband`): then a
   * wideband leg that carries telephone speech is switched to that profile
   * (StreamSink, docs/asr.md#telephone-speech-in-a-wideband-leg).
   */
  readonly telephoneProfile: boolean;
  supports(language: Language): boolean;
  /** Throws a `GatewayError` (SGW_LANGUAGE_UNSUPPORTED / SGW_ASR_UNAVAILABLE) when it cannot. */
  createRecognizer(language: Language, options?: RecognizerOptions): Recognizer;
  /**
   * A keyword spotter for `phrases` (lower-case words; phrases with words the
   * engine cannot recognise are left out and listed in `Spotter.skipped`).
   * Throws like `createRecognizer`, and SGW_INVALID_ARGUMENT when no phrase is left.
   */
  createSpotter(language: Language, phrases: readonly string[], options?: SpotterOptions): Spotter;
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
  /**
   * The audio was band-limited to 4 kHz (8 kHz telephone audio upsampled):
   * engines with a telephone profile use it (pocketsphinx: docs/asr.md).
   */
  readonly narrowband?: boolean;
  /**
   * Hypotheses after the best to give with each final (`RecognitionResult.alternatives`),
   * from the engine's N-best list (pocketsphinx ps_nbest, Vosk max_alternatives).
   * Default 0: none.
   */
  readonly alternatives?: number;
  /**
   * No intent is expected from this stream's speaker (the agent leg, with the
   * shipped grammars): its transcript is for the record, QA and the screens,
   * so engines may search it more cheaply (pocketsphinx: its `recordArgs`,
   * `POCKETSPHINX_AGENT_ARGS`). Default false.
   */
  readonly recordOnly?: boolean;
}

export interface SpotterOptions {
  /** As {@link RecognizerOptions.narrowband}. */
  readonly narrowband?: boolean;
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

/**
 * Keyword spotting over one continuous stream: reports each phrase it hears,
 * once, with its time span. Same threading and time base as {@link Recognizer}.
 */
export interface Spotter {
  readonly sampleRate: number;
  /** Phrases given but not spotted for, because a word is unknown to the model. */
  readonly skipped: readonly string[];
  accept(pcm: Int16Array): SpotHit[];
  /** End of a stretch of speech: reports what is pending and resets the search. */
  finish(): SpotHit[];
  /** Idempotent. */
  free(): void;
}
