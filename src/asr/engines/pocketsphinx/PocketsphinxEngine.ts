import { existsSync } from 'node:fs';
import { GatewayError } from '../../../errors.js';
import type { Language } from '../../../language.js';
import type { RecognitionResult, WordTiming } from '../../types.js';
import { DEFAULT_PARTIAL_INTERVAL_MS, stripVariant, type Engine, type Recognizer, type RecognizerOptions } from '../Engine.js';
import { pocketsphinx, type DecoderHandle, type PocketsphinxApi } from './bindings.js';
import { POCKETSPHINX_INSTALL_HINT } from './paths.js';

export interface PocketsphinxModel {
  readonly hmm: string;
  readonly lm: string;
  readonly dict: string;
}

export interface PocketsphinxEngineOptions {
  /**
   * Freed recognisers' decoders kept for reuse. ps_init takes ~0.7 s and
   * ~100 MB (LM + dictionary are per decoder), blocking the worker thread, so
   * reusing decoders matters for call set-up latency. Default 2.
   */
  readonly maxIdleDecoders?: number;
  /** Forced endpoint for speech that never pauses (noisy lines), so hypotheses stay cheap. Default 30 s. */
  readonly maxUtteranceMs?: number;
  /** Extra pocketsphinx arguments as flag/value pairs, e.g. `['-dither', 'yes']`. */
  readonly extraArgs?: readonly string[];
}

const SAMPLE_RATE = 16000;
/** pocketsphinx's default -frate. */
const FRAMES_PER_SECOND = 100;
/** Endpointing granularity: ps_get_in_speech is checked after every 20 ms. */
const SLICE_SAMPLES = SAMPLE_RATE / 50;

/**
 * CMU pocketsphinx (5prealpha, Debian model), en-US only, 16 kHz. One native decoder
 * per recogniser; decoders do not share the language model, hence the reuse
 * pool. Endpointing uses pocketsphinx's own VAD (`ps_get_in_speech`).
 */
export class PocketsphinxEngine implements Engine {
  readonly name = 'pocketsphinx';
  readonly sampleRate = SAMPLE_RATE;
  private readonly ps: PocketsphinxApi;
  private readonly idle: DecoderHandle[] = [];
  private readonly live = new Set<PocketsphinxRecognizer>();
  private readonly maxIdle: number;
  private readonly maxUtteranceMs: number;
  private readonly extraArgs: readonly string[];
  private freed = false;

  /** Loads the library and one decoder, so a broken install fails here and not on the first call. */
  constructor(
    private readonly model: PocketsphinxModel,
    options: PocketsphinxEngineOptions = {},
  ) {
    this.maxIdle = options.maxIdleDecoders ?? 2;
    this.maxUtteranceMs = options.maxUtteranceMs ?? 30_000;
    this.extraArgs = options.extraArgs ?? [];
    for (const [what, path] of [['acoustic model', model.hmm], ['language model', model.lm], ['dictionary', model.dict]] as const) {
      if (!existsSync(path)) {
        throw new GatewayError('SGW_ASR_UNAVAILABLE', `pocketsphinx ${what} not found at ${path}; ${POCKETSPHINX_INSTALL_HINT}`);
      }
    }
    this.ps = pocketsphinx();
    this.idle.push(this.newDecoder());
  }

  supports(language: Language): boolean {
    return language === 'en-US';
  }

  createRecognizer(language: Language, options: RecognizerOptions = {}): Recognizer {
    if (this.freed) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'pocketsphinx engine already freed');
    if (!this.supports(language)) {
      throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `pocketsphinx has no model for ${language} (only en-US)`);
    }
    const decoder = this.idle.pop() ?? this.newDecoder();
    const recognizer = new PocketsphinxRecognizer(this.ps, decoder, {
      partialIntervalMs: options.partialIntervalMs ?? DEFAULT_PARTIAL_INTERVAL_MS,
      maxUtteranceMs: this.maxUtteranceMs,
      release: (d) => this.release(recognizer, d),
    });
    this.live.add(recognizer);
    return recognizer;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const r of [...this.live]) r.free();
    for (const d of this.idle.splice(0)) this.ps.ps_free(d);
  }

  private release(recognizer: PocketsphinxRecognizer, decoder: DecoderHandle): void {
    this.live.delete(recognizer);
    if (!this.freed && this.idle.length < this.maxIdle) this.idle.push(decoder);
    else this.ps.ps_free(decoder);
  }

  private newDecoder(): DecoderHandle {
    const { ps, model } = this;
    const config = ps.cmd_ln_init(null, ps.ps_args(), 1,
      // No -logfn: logging is disabled process-wide by the bindings (see there).
      '-hmm', model.hmm, '-lm', model.lm, '-dict', model.dict,
      ...this.extraArgs,
      null);
    if (config === null) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'pocketsphinx rejected its configuration');
    const decoder = ps.ps_init(config);
    // ps_init holds its own reference to the configuration.
    ps.cmd_ln_free_r(config);
    if (decoder === null) {
      throw new GatewayError('SGW_ASR_UNAVAILABLE', `pocketsphinx could not load the model (hmm ${model.hmm}, lm ${model.lm}, dict ${model.dict}); ${POCKETSPHINX_INSTALL_HINT}`);
    }
    return decoder;
  }
}

interface RecognizerSettings {
  readonly partialIntervalMs: number;
  readonly maxUtteranceMs: number;
  readonly release: (decoder: DecoderHandle) => void;
}

/** Continuous recognition: one pocketsphinx utterance per stretch of speech. */
class PocketsphinxRecognizer implements Recognizer {
  readonly sampleRate = SAMPLE_RATE;
  private decoder: DecoderHandle | null;
  /** Samples fed since creation; the time base of every result. */
  private samplesFed = 0;
  /** samplesFed when the current utterance started; pocketsphinx frames count from there. */
  private uttStartSample = 0;
  private utteranceId = 0;
  private inSpeech = false;
  private speechSeen = false;
  private lastPartialAt = 0;
  private lastPartialText = '';
  private readonly partialIntervalSamples: number;
  private readonly maxUtteranceSamples: number;

  constructor(
    private readonly ps: PocketsphinxApi,
    decoder: DecoderHandle,
    private readonly settings: RecognizerSettings,
  ) {
    this.decoder = decoder;
    this.partialIntervalSamples = Math.round((settings.partialIntervalMs * SAMPLE_RATE) / 1000);
    this.maxUtteranceSamples = Math.round((settings.maxUtteranceMs * SAMPLE_RATE) / 1000);
    this.startUtterance();
  }

  accept(pcm: Int16Array): RecognitionResult[] {
    const decoder = this.decoder;
    if (decoder === null) throw new Error('recogniser used after free()');
    const results: RecognitionResult[] = [];
    // Slices, so that an endpoint inside a large chunk is not missed.
    for (let offset = 0; offset < pcm.length; offset += SLICE_SAMPLES) {
      const slice = pcm.subarray(offset, Math.min(offset + SLICE_SAMPLES, pcm.length));
      this.ps.ps_process_raw(decoder, slice, slice.length, 0, 0);
      this.samplesFed += slice.length;
      const inSpeech = this.ps.ps_get_in_speech(decoder) !== 0;
      if (inSpeech) this.speechSeen = true;
      const endpoint = this.inSpeech && !inSpeech;
      this.inSpeech = inSpeech;
      if (endpoint || (this.speechSeen && this.samplesFed - this.uttStartSample >= this.maxUtteranceSamples)) {
        const final = this.endUtterance(decoder);
        if (final) results.push(final);
        this.startUtterance();
      } else if (this.speechSeen && this.samplesFed - this.lastPartialAt >= this.partialIntervalSamples) {
        this.lastPartialAt = this.samplesFed;
        const partial = this.partial(decoder);
        if (partial) results.push(partial);
      }
    }
    return results;
  }

  finish(): RecognitionResult[] {
    const decoder = this.decoder;
    if (decoder === null) return [];
    const final = this.endUtterance(decoder);
    this.startUtterance();
    return final ? [final] : [];
  }

  free(): void {
    const decoder = this.decoder;
    if (decoder === null) return;
    this.decoder = null;
    this.ps.ps_end_utt(decoder);
    this.settings.release(decoder);
  }

  private startUtterance(): void {
    if (this.decoder === null) return;
    // In 5prealpha, segment frames count from the last stream start, not the
    // utterance start. Restarting the stream per utterance anchors them to
    // uttStartSample, our exact sample count, so timing errors cannot accumulate
    // over a long call (end_utt pads the last frame, which would drift).
    this.ps.ps_start_stream(this.decoder);
    this.ps.ps_start_utt(this.decoder);
    this.uttStartSample = this.samplesFed;
    this.lastPartialAt = this.samplesFed;
    this.lastPartialText = '';
    this.inSpeech = false;
    this.speechSeen = false;
  }

  private partial(decoder: DecoderHandle): RecognitionResult | undefined {
    const text = this.ps.ps_get_hyp(decoder, [0]) ?? '';
    // Unchanged hypotheses carry no news; skip them (and the segment walk).
    if (text === '' || text === this.lastPartialText) return undefined;
    this.lastPartialText = text;
    return this.result(decoder, false, text);
  }

  /** Ends the utterance; a final is due when it had speech or partials went out. */
  private endUtterance(decoder: DecoderHandle): RecognitionResult | undefined {
    this.ps.ps_end_utt(decoder);
    const text = this.ps.ps_get_hyp(decoder, [0]) ?? '';
    if (text === '' && this.lastPartialText === '') return undefined;
    const result = this.result(decoder, true, text);
    this.utteranceId++;
    return result;
  }

  private result(decoder: DecoderHandle, final: boolean, text: string): RecognitionResult {
    const words = this.words(decoder);
    const first = words[0];
    const last = words[words.length - 1];
    return {
      final,
      utteranceId: this.utteranceId,
      text,
      startMs: first ? first.startMs : this.sampleToMs(this.uttStartSample),
      endMs: last ? last.endMs : this.sampleToMs(this.samplesFed),
      words,
    };
  }

  private words(decoder: DecoderHandle): WordTiming[] {
    const words: WordTiming[] = [];
    const base = this.sampleToMs(this.uttStartSample);
    const limit = this.sampleToMs(this.samplesFed);
    const sf: [number] = [0];
    const ef: [number] = [0];
    for (let seg = this.ps.ps_seg_iter(decoder); seg !== null; seg = this.ps.ps_seg_next(seg)) {
      const raw = this.ps.ps_seg_word(seg);
      // Fillers and sentence markers: <s>, </s>, <sil>, [NOISE], ++BREATH++.
      if (raw === null || /^[<[+]/.test(raw)) continue;
      this.ps.ps_seg_frames(seg, sf, ef);
      const startMs = Math.min(limit, base + (sf[0] * 1000) / FRAMES_PER_SECOND);
      // ef is inclusive; the frame window can reach past the audio fed so far.
      const endMs = Math.min(limit, base + ((ef[0] + 1) * 1000) / FRAMES_PER_SECOND);
      words.push({ word: stripVariant(raw), startMs, endMs });
    }
    return words;
  }

  private sampleToMs(sample: number): number {
    return Math.round((sample * 1000) / SAMPLE_RATE);
  }
}
