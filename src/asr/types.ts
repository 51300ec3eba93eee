import type { Language } from '../language.js';

export type EngineName = 'pocketsphinx' | 'vosk';

/** Serializable engine configuration, sent to every worker. */
export type EngineConfig =
  | {
      readonly engine: 'pocketsphinx';
      /** Acoustic model dir, language model and dictionary (Debian pocketsphinx-en-us by default). */
      readonly hmm: string;
      readonly lm: string;
      readonly dict: string;
      /** Extra flag/value pairs for wideband transcript decoders (`POCKETSPHINX_ARGS`). */
      readonly extraArgs?: readonly string[];
      /** The same for telephone-profile (8 kHz) transcript decoders (`POCKETSPHINX_NARROWBAND_ARGS`). */
      readonly narrowbandArgs?: readonly string[];
      /** The same for record-only streams' transcript decoders, both profiles (`POCKETSPHINX_AGENT_ARGS`); absent: their profile's. */
      readonly recordArgs?: readonly string[];
      /** Their vocabulary (`POCKETSPHINX_AGENT_VOCABULARY`; `all`: the whole model); absent: `vocabulary`. */
      readonly recordVocabulary?: number | 'all';
      /** Recognisers search the language model's most probable words, this many (`POCKETSPHINX_VOCABULARY`); absent: all of them. */
      readonly vocabulary?: number;
      /** Extra flag/value pairs for keyword spotters (`POCKETSPHINX_SPOTTER_ARGS`). */
      readonly spotterArgs?: readonly string[];
    }
  | {
      readonly engine: 'vosk';
      /** Model directory per language; a language without a model cannot be recognised. */
      readonly models: Partial<Record<Language, string>>;
    };

export interface WordTiming {
  readonly word: string;
  /** Milliseconds from the start of the stream. */
  readonly startMs: number;
  readonly endMs: number;
  /** 0..1 where the engine reports it. */
  readonly confidence?: number;
}

/**
 * One hypothesis for the utterance in progress (`final: false`, may change)
 * or the settled text of a finished utterance (`final: true`).
 * Times are milliseconds from the first sample written to the stream.
 */
export interface RecognitionResult {
  readonly final: boolean;
  /** Increases by one per utterance on a stream; partials share their final's id. */
  readonly utteranceId: number;
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly words: readonly WordTiming[];
  /**
   * A final's lower-ranked hypotheses, best first (the recogniser's N-best
   * list after `text`, without repeats); only when asked for
   * (`RecognizerOptions.alternatives`) and the engine has them.
   */
  readonly alternatives?: readonly Hypothesis[];
}

/** One hypothesis of an N-best list. */
export interface Hypothesis {
  readonly text: string;
  /** Times as in {@link RecognitionResult}; empty where the engine gives none. */
  readonly words: readonly WordTiming[];
}

/**
 * A grammar phrase heard by a keyword spotter (pocketsphinx `-kws`, a Vosk
 * grammar recogniser), independently of the free transcript.
 * Times are milliseconds from the first sample written to the stream.
 */
export interface SpotHit {
  /** The phrase as it was given to the spotter (lower-case words separated by single spaces). */
  readonly phrase: string;
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * What a stream's recognition runs: the free transcript, phrase spotting
 * beside it, or spotting alone (cheap: no language model search).
 */
export type RecognitionMode = 'transcribe' | 'transcribe+spot' | 'spot';
