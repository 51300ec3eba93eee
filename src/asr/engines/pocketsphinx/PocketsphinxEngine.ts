import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../../errors.js';
import type { Language } from '../../../language.js';
import type { RecognitionResult, SpotHit, WordTiming } from '../../types.js';
import { DEFAULT_PARTIAL_INTERVAL_MS, stripVariant, type Engine, type Recognizer, type RecognizerOptions, type Spotter, type SpotterOptions } from '../Engine.js';
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
  /**
   * Keyword-spotting threshold per phrase is 10^-(this × words), capped at
   * 10^-50: longer phrases accumulate more acoustic evidence, so they need a
   * lower threshold to be caught at all. Default 8 (measured on flite
   * voices, wideband and telephone: docs/asr.md).
   */
  readonly kwsThresholdExponentPerWord?: number;
  /**
   * Initial cepstral mean for narrowband (telephone) streams: 13 numbers,
   * comma-separated. Default {@link TELEPHONE_CMNINIT}.
   */
  readonly telephoneCmninit?: string;
}

/**
 * Cepstral mean of 8 kHz mu-law speech upsampled to 16 kHz, as the Debian
 * en-US model's front end computes it (read off pocketsphinx's live CMN after
 * four flite voices; c0, the level, set for telephone loudness). The model's
 * own `-cmninit` (41.00,-5.29,-0.12,5.09,…) is a wideband mean: narrowband
 * audio is so far from it that live CMN needs a whole utterance to adapt, and
 * that utterance is garbled ("ha what are when they're married" for "hello i
 * have been waiting for an hour"). docs/asr.md has the measurements.
 */
export const TELEPHONE_CMNINIT = '42.00,33.64,-31.91,38.16,-22.40,-2.25,14.66,-26.68,17.49,-8.25,2.07,9.47,-14.57';

/** Acoustic front-end profile of a decoder: the model as shipped, or with the telephone CMN start. */
type Profile = 'wideband' | 'narrowband';

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
  /** Idle recogniser decoders per profile. */
  private readonly idle: Record<Profile, DecoderHandle[]> = { wideband: [], narrowband: [] };
  private readonly live = new Set<PocketsphinxRecognizer>();
  private readonly maxIdle: number;
  private readonly maxUtteranceMs: number;
  private readonly extraArgs: readonly string[];
  private readonly kwsExponentPerWord: number;
  /** Idle spotting decoders by phrase list (their keyword search is built into them at ps_init). */
  private readonly idleSpotters = new Map<string, DecoderHandle[]>();
  private readonly liveSpotters = new Set<PocketsphinxSpotter>();
  private vocabulary: ReadonlySet<string> | undefined;
  private readonly telephoneCmninit: string;
  /** The model folder with the telephone `feat.params`, made (or found) on first use. */
  private telephoneHmm: string | undefined;
  private freed = false;

  /** Loads the library and one decoder, so a broken install fails here and not on the first call. */
  constructor(
    private readonly model: PocketsphinxModel,
    options: PocketsphinxEngineOptions = {},
  ) {
    this.maxIdle = options.maxIdleDecoders ?? 2;
    this.maxUtteranceMs = options.maxUtteranceMs ?? 30_000;
    this.extraArgs = options.extraArgs ?? [];
    this.kwsExponentPerWord = options.kwsThresholdExponentPerWord ?? 8;
    this.telephoneCmninit = options.telephoneCmninit ?? TELEPHONE_CMNINIT;
    if (!/^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){12}$/.test(this.telephoneCmninit)) {
      throw new GatewayError('SGW_CONFIG', `pocketsphinx telephone cmninit must be 13 comma-separated numbers, got '${this.telephoneCmninit}'`);
    }
    for (const [what, path] of [['acoustic model', model.hmm], ['language model', model.lm], ['dictionary', model.dict]] as const) {
      if (!existsSync(path)) {
        throw new GatewayError('SGW_ASR_UNAVAILABLE', `pocketsphinx ${what} not found at ${path}; ${POCKETSPHINX_INSTALL_HINT}`);
      }
    }
    this.ps = pocketsphinx();
    this.idle.wideband.push(this.newDecoder('wideband'));
  }

  supports(language: Language): boolean {
    return language === 'en-US';
  }

  createRecognizer(language: Language, options: RecognizerOptions = {}): Recognizer {
    if (this.freed) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'pocketsphinx engine already freed');
    if (!this.supports(language)) {
      throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `pocketsphinx has no model for ${language} (only en-US)`);
    }
    const profile: Profile = options.narrowband === true ? 'narrowband' : 'wideband';
    const decoder = this.idle[profile].pop() ?? this.newDecoder(profile);
    const recognizer = new PocketsphinxRecognizer(this.ps, decoder, {
      partialIntervalMs: options.partialIntervalMs ?? DEFAULT_PARTIAL_INTERVAL_MS,
      maxUtteranceMs: this.maxUtteranceMs,
      release: (d) => this.release(recognizer, profile, d),
    });
    this.live.add(recognizer);
    return recognizer;
  }

  createSpotter(language: Language, phrases: readonly string[], options: SpotterOptions = {}): Spotter {
    if (this.freed) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'pocketsphinx engine already freed');
    if (!this.supports(language)) {
      throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `pocketsphinx has no model for ${language} (only en-US)`);
    }
    // An out-of-vocabulary word makes ps_init fail for the whole list, so such phrases are left out here.
    const vocabulary = this.loadVocabulary();
    const usable: string[] = [];
    const skipped: string[] = [];
    for (const phrase of new Set(phrases)) {
      const words = phrase.split(' ').filter((w) => w !== '');
      if (words.length > 0 && words.every((w) => vocabulary.has(w))) usable.push(words.join(' '));
      else skipped.push(phrase);
    }
    if (usable.length === 0) throw new GatewayError('SGW_INVALID_ARGUMENT', `none of the ${phrases.length} spotting phrases is in the pocketsphinx dictionary`);
    const keyList = usable.map((p) => `${p} /1e-${Math.min(50, this.kwsExponentPerWord * p.split(' ').length)}/`).join('\n') + '\n';
    const profile: Profile = options.narrowband === true ? 'narrowband' : 'wideband';
    const poolKey = `${profile}\n${keyList}`;
    const decoder = this.idleSpotters.get(poolKey)?.pop() ?? this.newSpotterDecoder(keyList, profile);
    const spotter = new PocketsphinxSpotter(this.ps, decoder, skipped, (d) => this.releaseSpotter(spotter, poolKey, d));
    this.liveSpotters.add(spotter);
    return spotter;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const r of [...this.live]) r.free();
    for (const s of [...this.liveSpotters]) s.free();
    for (const list of Object.values(this.idle)) for (const d of list.splice(0)) this.ps.ps_free(d);
    for (const list of this.idleSpotters.values()) for (const d of list.splice(0)) this.ps.ps_free(d);
    this.idleSpotters.clear();
  }

  private release(recognizer: PocketsphinxRecognizer, profile: Profile, decoder: DecoderHandle): void {
    this.live.delete(recognizer);
    const idle = this.idle[profile];
    if (!this.freed && idle.length < this.maxIdle) idle.push(decoder);
    else this.ps.ps_free(decoder);
  }

  private releaseSpotter(spotter: PocketsphinxSpotter, poolKey: string, decoder: DecoderHandle): void {
    this.liveSpotters.delete(spotter);
    let list = this.idleSpotters.get(poolKey);
    if (list === undefined && !this.freed) {
      // Only current phrase lists are worth keeping: after a grammar reload the old ones are dead weight.
      const keyList = poolKey.slice(poolKey.indexOf('\n') + 1);
      for (const [key, old] of this.idleSpotters) {
        if (key.endsWith(keyList)) continue;
        for (const d of old.splice(0)) this.ps.ps_free(d);
        this.idleSpotters.delete(key);
      }
      list = [];
      this.idleSpotters.set(poolKey, list);
    }
    if (!this.freed && list !== undefined && list.length < this.maxIdle) list.push(decoder);
    else this.ps.ps_free(decoder);
  }

  /** Dictionary words (variants like `read(2)` folded), read once on the first spotter. */
  private loadVocabulary(): ReadonlySet<string> {
    if (this.vocabulary) return this.vocabulary;
    const words = new Set<string>();
    for (const line of readFileSync(this.model.dict, 'utf8').split('\n')) {
      const space = line.indexOf(' ');
      if (space > 0) words.add(stripVariant(line.slice(0, space)));
    }
    this.vocabulary = words;
    return words;
  }

  /** A decoder whose only search is keyword spotting for `keyList` (no language model: cheap). */
  private newSpotterDecoder(keyList: string, profile: Profile): DecoderHandle {
    // -kws takes a file; it is read during ps_init and not needed after.
    const dir = mkdtempSync(join(tmpdir(), 'sgw-kws-'));
    try {
      const file = join(dir, 'phrases.kws');
      writeFileSync(file, keyList);
      return this.newDecoder(profile, ['-kws', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * The telephone profile's acoustic model folder: the model's files linked,
   * `feat.params` copied with the telephone `-cmninit`. A folder and not a
   * flag, because pocketsphinx applies `feat.params` over the command line.
   * Named by model and mean, so every worker (and a restarted one) shares one
   * folder instead of leaving one behind per engine; built aside and renamed
   * into place, so a concurrent builder never sees half a folder.
   */
  private narrowbandHmm(): string {
    if (this.telephoneHmm !== undefined) return this.telephoneHmm;
    const id = createHash('sha256').update(`${this.model.hmm}\n${this.telephoneCmninit}`).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `sgw-ps-telephone-${id}`);
    if (!existsSync(join(dir, 'feat.params'))) {
      const building = mkdtempSync(join(tmpdir(), 'sgw-ps-building-'));
      try {
        for (const file of readdirSync(this.model.hmm)) {
          if (file !== 'feat.params') symlinkSync(join(this.model.hmm, file), join(building, file));
        }
        const params = readFileSync(join(this.model.hmm, 'feat.params'), 'utf8').split('\n').filter((line) => !line.startsWith('-cmninit') && line.trim() !== '');
        writeFileSync(join(building, 'feat.params'), [...params, `-cmninit ${this.telephoneCmninit}`, ''].join('\n'));
        try {
          renameSync(building, dir);
        } catch (err) {
          // Another worker won the race: its folder is the same.
          if (!existsSync(join(dir, 'feat.params'))) throw err;
        }
      } catch (err) {
        throw new GatewayError('SGW_ASR_UNAVAILABLE', `could not prepare the pocketsphinx telephone profile from ${this.model.hmm}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      } finally {
        rmSync(building, { recursive: true, force: true });
      }
    }
    this.telephoneHmm = dir;
    return dir;
  }

  private newDecoder(profile: Profile, search: readonly string[] = ['-lm', this.model.lm]): DecoderHandle {
    const { ps, model } = this;
    const hmm = profile === 'narrowband' ? this.narrowbandHmm() : model.hmm;
    const config = ps.cmd_ln_init(null, ps.ps_args(), 1,
      // No -logfn: logging is disabled process-wide by the bindings (see there).
      '-hmm', hmm, ...search, '-dict', model.dict,
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

/**
 * pocketsphinx keyword spotting (`-kws`): every 20 ms slice is searched for
 * the phrases; a detection is reported and the search restarted, so that a
 * phrase said twice is reported twice and detections never pile up.
 */
class PocketsphinxSpotter implements Spotter {
  readonly sampleRate = SAMPLE_RATE;
  private decoder: DecoderHandle | null;
  private samplesFed = 0;
  private searchStartSample = 0;

  constructor(
    private readonly ps: PocketsphinxApi,
    decoder: DecoderHandle,
    readonly skipped: readonly string[],
    private readonly release: (decoder: DecoderHandle) => void,
  ) {
    this.decoder = decoder;
    this.restart();
  }

  accept(pcm: Int16Array): SpotHit[] {
    const decoder = this.decoder;
    if (decoder === null) throw new Error('spotter used after free()');
    const hits: SpotHit[] = [];
    for (let offset = 0; offset < pcm.length; offset += SLICE_SAMPLES) {
      const slice = pcm.subarray(offset, Math.min(offset + SLICE_SAMPLES, pcm.length));
      this.ps.ps_process_raw(decoder, slice, slice.length, 0, 0);
      this.samplesFed += slice.length;
      // Cheap in kws mode: the hypothesis is the list of detections so far.
      const hyp = this.ps.ps_get_hyp(decoder, [0]);
      if (hyp !== null && hyp.trim() !== '') {
        hits.push(...this.detections(decoder));
        this.ps.ps_end_utt(decoder);
        this.restart();
      }
    }
    return hits;
  }

  finish(): SpotHit[] {
    const decoder = this.decoder;
    if (decoder === null) return [];
    this.ps.ps_end_utt(decoder);
    const hits = this.detections(decoder);
    this.restart();
    return hits;
  }

  free(): void {
    const decoder = this.decoder;
    if (decoder === null) return;
    this.decoder = null;
    this.ps.ps_end_utt(decoder);
    this.release(decoder);
  }

  private restart(): void {
    if (this.decoder === null) return;
    // As for recognisers: frames count from the stream start, anchored to our sample count.
    this.ps.ps_start_stream(this.decoder);
    this.ps.ps_start_utt(this.decoder);
    this.searchStartSample = this.samplesFed;
  }

  private detections(decoder: DecoderHandle): SpotHit[] {
    const hits: SpotHit[] = [];
    const base = (this.searchStartSample * 1000) / SAMPLE_RATE;
    const limit = (this.samplesFed * 1000) / SAMPLE_RATE;
    const sf: [number] = [0];
    const ef: [number] = [0];
    for (let seg = this.ps.ps_seg_iter(decoder); seg !== null; seg = this.ps.ps_seg_next(seg)) {
      const phrase = this.ps.ps_seg_word(seg)?.trim();
      if (phrase === undefined || phrase === '') continue;
      this.ps.ps_seg_frames(seg, sf, ef);
      hits.push({
        phrase,
        startMs: Math.round(Math.min(limit, base + (sf[0] * 1000) / FRAMES_PER_SECOND)),
        endMs: Math.round(Math.min(limit, base + ((ef[0] + 1) * 1000) / FRAMES_PER_SECOND)),
      });
    }
    return hits;
  }
}
