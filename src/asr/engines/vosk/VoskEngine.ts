import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../../../errors.js';
import type { Language } from '../../../language.js';
import type { RecognitionResult, SpotHit, WordTiming } from '../../types.js';
import { PhraseFinder } from '../../spotting/PhraseFinder.js';
import { DEFAULT_PARTIAL_INTERVAL_MS, type Engine, type Recognizer, type RecognizerOptions, type Spotter } from '../Engine.js';
import { vosk, type ModelHandle, type RecognizerHandle, type VoskApi } from './bindings.js';
import { parseVoskResult } from './result.js';

export { parseVoskResult } from './result.js';

const DEFAULT_SAMPLE_RATE = 16000;

/** Suggested small models, for error messages. */
const SUGGESTED_MODEL: Record<Language, string> = {
  'en-US': 'vosk-model-small-en-us-0.15',
  'nl-NL': 'vosk-model-small-nl-0.22',
};

function modelHint(language: Language): string {
  return `download ${SUGGESTED_MODEL[language]} from https://alphacephei.com/vosk/models, unpack it and set VOSK_MODEL=/path/to/dir`;
}

interface LoadedModel {
  readonly handle: ModelHandle;
  readonly sampleRate: number;
}

/**
 * Vosk (Kaldi) recognition. Each configured language's model is loaded once,
 * when the engine is created (so a bad path fails worker start-up, not a
 * call), and shared by all recognisers of this engine.
 */
export class VoskEngine implements Engine {
  readonly name = 'vosk';
  /** A Vosk model is trained for one band; a narrowband model is chosen by the operator. */
  readonly telephoneProfile = false;
  readonly sampleRate: number;
  private readonly api: VoskApi;
  private readonly models = new Map<Language, LoadedModel>();
  private readonly live = new Set<VoskRecognizer>();
  private freed = false;

  /** Throws GatewayError SGW_ASR_UNAVAILABLE naming the path when a model cannot be loaded. */
  constructor(models: Partial<Record<Language, string>>) {
    const entries = Object.entries(models) as [Language, string | undefined][];
    const configured = entries.filter((e): e is [Language, string] => typeof e[1] === 'string' && e[1] !== '');
    if (configured.length === 0) {
      throw new GatewayError('SGW_ASR_UNAVAILABLE', `no Vosk model configured; ${modelHint('en-US')}`);
    }
    // Check directories before loading the library: cheaper, and the clearest message.
    for (const [language, path] of configured) checkModelDir(language, path);
    this.api = vosk();
    try {
      for (const [language, path] of configured) {
        const handle = this.api.vosk_model_new(path);
        if (handle === null) {
          throw new GatewayError('SGW_ASR_UNAVAILABLE', `Vosk could not load the ${language} model at ${path} (not a Vosk model directory?); ${modelHint(language)}`);
        }
        this.models.set(language, { handle, sampleRate: modelSampleRate(path) });
      }
    } catch (err) {
      this.free();
      throw err;
    }
    this.sampleRate = this.models.values().next().value?.sampleRate ?? DEFAULT_SAMPLE_RATE;
  }

  supports(language: Language): boolean {
    return this.models.has(language);
  }

  createRecognizer(language: Language, options: RecognizerOptions = {}): Recognizer {
    if (this.freed) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'Vosk engine already freed');
    const model = this.models.get(language);
    if (!model) throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `no Vosk model configured for ${language}`);
    const handle = this.api.vosk_recognizer_new(model.handle, model.sampleRate);
    if (handle === null) throw new GatewayError('SGW_ASR_UNAVAILABLE', `Vosk could not create a recogniser for ${language}`);
    this.api.vosk_recognizer_set_words(handle, 1);
    this.api.vosk_recognizer_set_partial_words(handle, 1);
    const alternatives = options.alternatives ?? 0;
    // Vosk counts the best hypothesis among its alternatives.
    if (alternatives > 0) this.api.vosk_recognizer_set_max_alternatives(handle, alternatives + 1);
    const recognizer = new VoskRecognizer(this.api, handle, model.sampleRate, options.partialIntervalMs ?? DEFAULT_PARTIAL_INTERVAL_MS, () => {
      this.live.delete(recognizer);
    });
    this.live.add(recognizer);
    return recognizer;
  }

  /**
   * A grammar recogniser over `phrases` plus `[unk]` (Vosk's documented way to
   * spot phrases): it can only output phrase words or `[unk]`, so a garbled
   * free transcript does not hide a phrase. Words the model does not know are
   * dropped by Vosk itself (it logs them), so `skipped` is empty.
   */
  createSpotter(language: Language, phrases: readonly string[]): Spotter {
    if (this.freed) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'Vosk engine already freed');
    const model = this.models.get(language);
    if (!model) throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `no Vosk model configured for ${language}`);
    const unique = [...new Set(phrases.map((p) => p.trim()).filter((p) => p !== ''))];
    if (unique.length === 0) throw new GatewayError('SGW_INVALID_ARGUMENT', 'no spotting phrases given');
    const handle = this.api.vosk_recognizer_new_grm(model.handle, model.sampleRate, JSON.stringify([...unique, '[unk]']));
    if (handle === null) throw new GatewayError('SGW_ASR_UNAVAILABLE', `Vosk could not create a grammar recogniser for ${language}`);
    this.api.vosk_recognizer_set_words(handle, 1);
    this.api.vosk_recognizer_set_partial_words(handle, 1);
    const recognizer = new VoskRecognizer(this.api, handle, model.sampleRate, DEFAULT_PARTIAL_INTERVAL_MS, () => {
      this.live.delete(recognizer);
    });
    this.live.add(recognizer);
    return new RecognizerSpotter(recognizer, new PhraseFinder(unique));
  }

  /** Frees recognisers first: they reference the models. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const r of [...this.live]) r.free();
    for (const model of this.models.values()) this.api.vosk_model_free(model.handle);
    this.models.clear();
  }
}

function checkModelDir(language: Language, path: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new GatewayError('SGW_ASR_UNAVAILABLE', `Vosk model directory for ${language} does not exist: ${path}; ${modelHint(language)}`);
  }
  if (!isDir) throw new GatewayError('SGW_ASR_UNAVAILABLE', `Vosk model path for ${language} is not a directory: ${path}; ${modelHint(language)}`);
}

/** Models state their rate in conf/mfcc.conf (`--sample-frequency=8000` for telephony models). */
function modelSampleRate(path: string): number {
  try {
    const conf = readFileSync(join(path, 'conf', 'mfcc.conf'), 'utf8');
    const match = /^\s*--sample-frequency=(\d+(?:\.\d+)?)/m.exec(conf);
    const rate = match?.[1] === undefined ? NaN : Number(match[1]);
    return Number.isFinite(rate) && rate > 0 ? Math.round(rate) : DEFAULT_SAMPLE_RATE;
  } catch {
    return DEFAULT_SAMPLE_RATE;
  }
}


class VoskRecognizer implements Recognizer {
  private handle: RecognizerHandle | null;
  private samplesFed = 0;
  private uttStartSample = 0;
  private utteranceId = 0;
  private lastPartialAt = 0;
  private lastPartialText = '';
  private readonly partialIntervalSamples: number;

  constructor(
    private readonly api: VoskApi,
    handle: RecognizerHandle,
    readonly sampleRate: number,
    partialIntervalMs: number,
    private readonly onFree: () => void,
  ) {
    this.handle = handle;
    this.partialIntervalSamples = Math.round((partialIntervalMs * sampleRate) / 1000);
  }

  accept(pcm: Int16Array): RecognitionResult[] {
    const handle = this.handle;
    if (handle === null) throw new Error('recogniser used after free()');
    if (pcm.length === 0) return [];
    const status = this.api.vosk_recognizer_accept_waveform_s(handle, pcm, pcm.length);
    this.samplesFed += pcm.length;
    if (status < 0) throw new Error('vosk_recognizer_accept_waveform_s failed');
    if (status === 1) {
      const final = this.final(this.api.vosk_recognizer_result(handle));
      return final ? [final] : [];
    }
    if (this.samplesFed - this.lastPartialAt < this.partialIntervalSamples) return [];
    this.lastPartialAt = this.samplesFed;
    const { text, words } = parseVoskResult(this.api.vosk_recognizer_partial_result(handle));
    if (text === '' || text === this.lastPartialText) return [];
    this.lastPartialText = text;
    return [this.result(false, text, words)];
  }

  finish(): RecognitionResult[] {
    const handle = this.handle;
    if (handle === null) return [];
    const final = this.final(this.api.vosk_recognizer_final_result(handle));
    return final ? [final] : [];
  }

  free(): void {
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    this.api.vosk_recognizer_free(handle);
    this.onFree();
  }

  private final(json: string): RecognitionResult | undefined {
    const { text, words, alternatives } = parseVoskResult(json);
    const hadPartial = this.lastPartialText !== '';
    this.lastPartialText = '';
    this.lastPartialAt = this.samplesFed;
    const result = text !== '' || hadPartial ? { ...this.result(true, text, words), ...(alternatives.length > 0 ? { alternatives } : {}) } : undefined;
    if (result) this.utteranceId++;
    this.uttStartSample = this.samplesFed;
    return result;
  }

  private result(final: boolean, text: string, words: WordTiming[]): RecognitionResult {
    const first = words[0];
    const last = words[words.length - 1];
    return {
      final,
      utteranceId: this.utteranceId,
      text,
      startMs: first ? first.startMs : Math.round((this.uttStartSample * 1000) / this.sampleRate),
      endMs: last ? last.endMs : Math.round((this.samplesFed * 1000) / this.sampleRate),
      words,
    };
  }
}

/**
 * Spotting on a grammar recogniser: phrases found in its partials are
 * reported at once (latency), each occurrence once per utterance, even when
 * the final repeats it.
 */
class RecognizerSpotter implements Spotter {
  readonly skipped: readonly string[] = [];
  private utteranceId = -1;
  /** `phrase@startMs` reported in the current utterance; partial times can move a little, hence the tolerance below. */
  private reported: SpotHit[] = [];

  constructor(
    private readonly recognizer: Recognizer,
    private readonly finder: PhraseFinder,
  ) {}

  get sampleRate(): number {
    return this.recognizer.sampleRate;
  }

  accept(pcm: Int16Array): SpotHit[] {
    return this.collect(this.recognizer.accept(pcm));
  }

  finish(): SpotHit[] {
    return this.collect(this.recognizer.finish());
  }

  free(): void {
    this.recognizer.free();
  }

  private collect(results: readonly RecognitionResult[]): SpotHit[] {
    const fresh: SpotHit[] = [];
    for (const result of results) {
      if (result.utteranceId !== this.utteranceId) {
        this.utteranceId = result.utteranceId;
        this.reported = [];
      }
      for (const hit of this.finder.find(result.words)) {
        const seen = this.reported.some((r) => r.phrase === hit.phrase && Math.abs(r.startMs - hit.startMs) < 500);
        if (seen) continue;
        this.reported.push(hit);
        fresh.push(hit);
      }
    }
    return fresh;
  }
}
