import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../../errors.js';
import type { Language } from '../../../language.js';
import type { Hypothesis, RecognitionResult, SpotHit, WordTiming } from '../../types.js';
import { DEFAULT_PARTIAL_INTERVAL_MS, stripVariant, type Engine, type Recognizer, type RecognizerOptions, type Spotter, type SpotterOptions } from '../Engine.js';
import { pocketsphinx, type ConfigHandle, type DecoderHandle, type NgramModelHandle, type PocketsphinxApi, type SegmentHandle } from './bindings.js';
import { POCKETSPHINX_INSTALL_HINT } from './paths.js';

export interface PocketsphinxModel {
  readonly hmm: string;
  readonly lm: string;
  readonly dict: string;
}

export interface PocketsphinxEngineOptions {
  /**
   * Freed recognisers' decoders kept for reuse. ps_init takes ~0.3 s and
   * ~50 MB (the search tree over the vocabulary is per decoder), blocking the
   * worker thread, so reusing decoders matters for call set-up latency. Default 2
   * per profile (wideband, telephone), record-only decoders included.
   */
  readonly maxIdleDecoders?: number;
  /** Forced endpoint for speech that never pauses (noisy lines), so hypotheses stay cheap. Default 30 s. */
  readonly maxUtteranceMs?: number;
  /** Extra pocketsphinx arguments for wideband transcript decoders as flag/value pairs, e.g. `['-maxhmmpf', '3000']`. */
  readonly extraArgs?: readonly string[];
  /** The same for the telephone profile's (8 kHz) transcript decoders. Default none (the gateway passes POCKETSPHINX_NARROWBAND_ARGS). */
  readonly narrowbandArgs?: readonly string[];
  /**
   * Extra pocketsphinx arguments for the transcript decoders of record-only streams
   * (`RecognizerOptions.recordOnly`: legs no intent is expected from), both profiles,
   * instead of `extraArgs` / `narrowbandArgs`. Default: those (no separate search).
   */
  readonly recordArgs?: readonly string[];
  /**
   * The vocabulary of record-only streams' decoders (as `vocabulary`; `all`: every word of the
   * model), when `recordArgs` are given. Default: `vocabulary`.
   */
  readonly recordVocabulary?: number | 'all';
  /** Extra pocketsphinx arguments for keyword spotters (both profiles). Default none: the library's settings. */
  readonly spotterArgs?: readonly string[];
  /**
   * Recognisers search only the language model's this many most probable
   * words (by unigram). The search tree and dictionary of every decoder are
   * built over its vocabulary, so a smaller one costs less memory and CPU
   * per leg (docs/asr.md#vocabulary). Default: every word of the model.
   */
  readonly vocabulary?: number;
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
/** A recogniser decoder's search flags: its profile's, or the record-only streams' (`recordArgs`). */
type Tier = 'full' | 'record';
/** Idle recogniser decoders are pooled by profile and tier: they differ in model folder and flags. */
type PoolKey = `${Profile}/${Tier}`;

const SAMPLE_RATE = 16000;
/** pocketsphinx's default -frate. */
const FRAMES_PER_SECOND = 100;
/** Endpointing granularity: ps_get_in_speech is checked after every 20 ms. */
const SLICE_SAMPLES = SAMPLE_RATE / 50;
/** pocketsphinx's name for the search that ps_init sets up from `-lm` (PS_DEFAULT_SEARCH). */
const DEFAULT_SEARCH = '_default';
/** ngram_model_read: file type from the file (NGRAM_AUTO; NGRAM_INVALID is -1). */
const NGRAM_AUTO = 0;
/** Lattice paths looked at per distinct alternative wanted: most differ from the last only in fillers. */
const NBEST_STEPS_PER_HYPOTHESIS = 8;
/** Length of a cepstral vector, and so of the live cepstral mean (pocketsphinx's -ceplen default). */
const CEPSTRUM_LENGTH = 13;
/** Spotter phrase lists whose dictionaries an engine remembers (grammar reloads bring new ones). */
const MAX_SPOT_LISTS = 4;

/** A spotter phrase list as the decoder gets it. */
interface SpotSetup {
  /** The `-kws` file's text: the usable phrases with their thresholds. */
  readonly keyList: string;
  /** Phrases with a word the dictionary lacks. */
  readonly skipped: readonly string[];
  /** A dictionary of just the usable phrases' words (every pronunciation). */
  readonly dict: string;
}

/**
 * CMU pocketsphinx (5prealpha, Debian model), en-US only, 16 kHz. One native decoder
 * per recogniser, one per spotter. Memory (docs/asr.md#memory): the engine
 * loads the language model once and every recogniser's decoder searches the
 * same copy (ps_set_lm); recognisers get a dictionary of just the language
 * model's words (the search cannot reach the others), spotters one of just
 * their phrases' words. ps_init is still slow, hence the reuse pools.
 * Endpointing uses pocketsphinx's own VAD (`ps_get_in_speech`).
 *
 * Not thread-safe: the shared language model caches its last lookup, so an
 * engine and its recognisers and spotters must stay on one thread (each ASR
 * worker has its own engine).
 */
export class PocketsphinxEngine implements Engine {
  readonly name = 'pocketsphinx';
  readonly sampleRate = SAMPLE_RATE;
  readonly telephoneProfile = true;
  private readonly ps: PocketsphinxApi;
  /** Idle recogniser decoders per profile and tier. */
  private readonly idle: Record<PoolKey, DecoderHandle[]> = { 'wideband/full': [], 'narrowband/full': [], 'wideband/record': [], 'narrowband/record': [] };
  private readonly live = new Set<PocketsphinxRecognizer>();
  private readonly maxIdle: number;
  private readonly maxUtteranceMs: number;
  private readonly extraArgs: readonly string[];
  private readonly narrowbandArgs: readonly string[];
  private readonly recordArgs: readonly string[] | undefined;
  private readonly vocabulary: number | undefined;
  private readonly spotterArgs: readonly string[];
  private readonly kwsExponentPerWord: number;
  /** Idle spotting decoders by phrase list (their keyword search is built into them at ps_init). */
  private readonly idleSpotters = new Map<string, DecoderHandle[]>();
  private readonly liveSpotters = new Set<PocketsphinxSpotter>();
  /** Phrase lists already prepared, by the list as given (oldest first). */
  private readonly spotSetups = new Map<string, SpotSetup>();
  /** The language model every recogniser decoder searches (this engine's reference; each search holds its own). */
  private lm: NgramModelHandle | undefined;
  /** The recognisers' dictionaries by vocabulary size ('all': every word of the language model), or the model's own. */
  private readonly recognizerDictPaths = new Map<number | 'all', string>();
  private readonly recordVocabulary: number | 'all' | undefined;
  private readonly telephoneCmninit: string;
  /** The model folder with the telephone `feat.params`, made (or found) on first use. */
  private telephoneHmm: string | undefined;
  /** Each decoder's cepstral mean as ps_init left it: every stream starts from it (see `resetState`). */
  private readonly initialCmn = new Map<DecoderHandle, Float32Array>();
  private freed = false;

  /** Loads the library and one decoder, so a broken install fails here and not on the first call. */
  constructor(
    private readonly model: PocketsphinxModel,
    options: PocketsphinxEngineOptions = {},
  ) {
    this.maxIdle = options.maxIdleDecoders ?? 2;
    this.maxUtteranceMs = options.maxUtteranceMs ?? 30_000;
    this.extraArgs = options.extraArgs ?? [];
    this.narrowbandArgs = options.narrowbandArgs ?? [];
    this.recordArgs = options.recordArgs;
    this.vocabulary = options.vocabulary;
    for (const v of [options.vocabulary, options.recordVocabulary]) {
      if (v !== undefined && v !== 'all' && !(Number.isInteger(v) && v > 0)) throw new RangeError(`vocabulary must be a positive whole number of words, not ${v}`);
    }
    this.recordVocabulary = options.recordVocabulary ?? options.vocabulary;
    this.spotterArgs = options.spotterArgs ?? [];
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
    this.idle['wideband/full'].push(this.newDecoder('wideband', 'lm'));
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
    // Without flags of their own, record-only streams share the full decoders.
    const tier: Tier = options.recordOnly === true && this.recordArgs !== undefined ? 'record' : 'full';
    const pool: PoolKey = `${profile}/${tier}`;
    const decoder = this.idle[pool].pop() ?? this.newDecoder(profile, 'lm', tier);
    this.resetState(decoder);
    const recognizer = new PocketsphinxRecognizer(this.ps, decoder, {
      partialIntervalMs: options.partialIntervalMs ?? DEFAULT_PARTIAL_INTERVAL_MS,
      alternatives: Math.max(0, Math.floor(options.alternatives ?? 0)),
      maxUtteranceMs: this.maxUtteranceMs,
      release: (d) => this.release(recognizer, pool, d),
    });
    this.live.add(recognizer);
    return recognizer;
  }

  createSpotter(language: Language, phrases: readonly string[], options: SpotterOptions = {}): Spotter {
    if (this.freed) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'pocketsphinx engine already freed');
    if (!this.supports(language)) {
      throw new GatewayError('SGW_LANGUAGE_UNSUPPORTED', `pocketsphinx has no model for ${language} (only en-US)`);
    }
    const { keyList, skipped, dict } = this.spotSetup(phrases);
    const profile: Profile = options.narrowband === true ? 'narrowband' : 'wideband';
    const poolKey = `${profile}\n${keyList}`;
    const decoder = this.idleSpotters.get(poolKey)?.pop() ?? this.newSpotterDecoder(keyList, dict, profile);
    this.resetState(decoder);
    const spotter = new PocketsphinxSpotter(this.ps, decoder, skipped, (d) => this.releaseSpotter(spotter, poolKey, d));
    this.liveSpotters.add(spotter);
    return spotter;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const r of [...this.live]) r.free();
    for (const s of [...this.liveSpotters]) s.free();
    for (const list of Object.values(this.idle)) for (const d of list.splice(0)) this.freeDecoder(d);
    for (const list of this.idleSpotters.values()) for (const d of list.splice(0)) this.freeDecoder(d);
    this.idleSpotters.clear();
    // The decoders' searches held their own references; this was the engine's.
    if (this.lm !== undefined) this.ps.ngram_model_free(this.lm);
    this.lm = undefined;
  }

  private release(recognizer: PocketsphinxRecognizer, pool: PoolKey, decoder: DecoderHandle): void {
    this.live.delete(recognizer);
    // The bound is per profile, over both tiers: a call's two legs give back one decoder of each.
    const profile = pool.slice(0, pool.indexOf('/'));
    const kept = this.idle[`${profile}/full` as PoolKey].length + this.idle[`${profile}/record` as PoolKey].length;
    if (!this.freed && kept < this.maxIdle) this.idle[pool].push(decoder);
    else this.freeDecoder(decoder);
  }

  private freeDecoder(decoder: DecoderHandle): void {
    this.initialCmn.delete(decoder);
    this.ps.ps_free(decoder);
  }

  /**
   * Puts a reused decoder back where ps_init left it, so that every stream is
   * recognised the same whatever ran on the decoder before. The state that
   * outlives an utterance is the live cepstral mean: after a call of hold
   * music or a 1 kHz tone it is so far off that the next call's first
   * utterances are garbled. (Noise statistics and the VAD restart with every
   * ps_start_stream, which each utterance calls.)
   */
  private resetState(decoder: DecoderHandle): void {
    const initial = this.initialCmn.get(decoder);
    const cmn = this.ps.feat_cmn(this.ps.ps_get_feat(decoder));
    if (initial === undefined || cmn === null) return;
    this.ps.cmn_live_set(cmn, initial);
  }

  private releaseSpotter(spotter: PocketsphinxSpotter, poolKey: string, decoder: DecoderHandle): void {
    this.liveSpotters.delete(spotter);
    let list = this.idleSpotters.get(poolKey);
    if (list === undefined && !this.freed) {
      // Only current phrase lists are worth keeping: after a grammar reload the old ones are dead weight.
      const keyList = poolKey.slice(poolKey.indexOf('\n') + 1);
      for (const [key, old] of this.idleSpotters) {
        if (key.endsWith(keyList)) continue;
        for (const d of old.splice(0)) this.freeDecoder(d);
        this.idleSpotters.delete(key);
      }
      list = [];
      this.idleSpotters.set(poolKey, list);
    }
    if (!this.freed && list !== undefined && list.length < this.maxIdle) list.push(decoder);
    else this.freeDecoder(decoder);
  }

  /**
   * The usable phrases of a list, and a dictionary of their words. An
   * out-of-vocabulary word makes ps_init fail for the whole list, so such
   * phrases are left out. The dictionary holds only the phrases' words: keyword
   * search looks up nothing else, and the model's 134k words would cost a
   * spotter ~20 MB and most of its ps_init time. Named by its content, so every
   * worker shares one file per phrase list.
   */
  private spotSetup(phrases: readonly string[]): SpotSetup {
    const listKey = phrases.join('\n');
    const known = this.spotSetups.get(listKey);
    // Checked, because a temp-folder cleaner may have removed the file since.
    if (known !== undefined && existsSync(known.dict)) return known;
    this.spotSetups.delete(listKey);
    const wanted = new Set(phrases.flatMap((p) => p.split(' ')).filter((w) => w !== ''));
    const entries = new Map<string, string[]>();
    for (const line of readFileSync(this.model.dict, 'utf8').split('\n')) {
      const space = line.indexOf(' ');
      if (space <= 0) continue;
      const word = stripVariant(line.slice(0, space));
      if (wanted.has(word)) entries.set(word, [...(entries.get(word) ?? []), line]);
    }
    const usable: string[] = [];
    const skipped: string[] = [];
    for (const phrase of new Set(phrases)) {
      const words = phrase.split(' ').filter((w) => w !== '');
      if (words.length > 0 && words.every((w) => entries.has(w))) usable.push(words.join(' '));
      else skipped.push(phrase);
    }
    if (usable.length === 0) throw new GatewayError('SGW_INVALID_ARGUMENT', `none of the ${phrases.length} spotting phrases is in the pocketsphinx dictionary`);
    const keyList = usable.map((p) => `${p} /1e-${Math.min(50, this.kwsExponentPerWord * p.split(' ').length)}/`).join('\n') + '\n';
    const usedWords = new Set(usable.flatMap((p) => p.split(' ')));
    const text = [...entries].filter(([word]) => usedWords.has(word)).flatMap(([, lines]) => lines).join('\n') + '\n';
    const id = createHash('sha256').update(text).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `sgw-ps-dict-${id}`);
    try {
      buildOnce(dir, 'dict', (building) => writeFileSync(join(building, 'dict'), text));
    } catch (err) {
      throw new GatewayError('SGW_ASR_UNAVAILABLE', `could not write the pocketsphinx spotting dictionary: ${errorText(err)}`, { cause: err });
    }
    const setup: SpotSetup = { keyList, skipped, dict: join(dir, 'dict') };
    if (this.spotSetups.size >= MAX_SPOT_LISTS) {
      const oldest = this.spotSetups.keys().next();
      if (oldest.done !== true) this.spotSetups.delete(oldest.value);
    }
    this.spotSetups.set(listKey, setup);
    return setup;
  }

  /** A decoder whose only search is keyword spotting for `keyList` (no language model: cheap). */
  private newSpotterDecoder(keyList: string, dict: string, profile: Profile): DecoderHandle {
    // -kws takes a file; it is read during ps_init and not needed after.
    const dir = mkdtempSync(join(tmpdir(), 'sgw-kws-'));
    try {
      const file = join(dir, 'phrases.kws');
      writeFileSync(file, keyList);
      return this.newDecoder(profile, { kws: file, dict });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * The recognisers' dictionary: the model's entries (every pronunciation) for
   * the words of the language model, or for its `vocabulary` most probable
   * ones. The n-gram search builds its tree from the dictionary's words that
   * the model knows, so the rest of the 134k (62k words, ~12 MB per decoder)
   * is dead weight, and leaving out rare words shrinks the tree further. Made
   * once per model and size in the temp folder, named by them; where that
   * fails, the model's own dictionary (every word, more memory).
   */
  private recognizerDict(size: number | undefined): string {
    const known = this.recognizerDictPaths.get(size ?? 'all');
    if (known !== undefined && existsSync(known)) return known;
    const { dict, lm } = this.model;
    let path = dict;
    try {
      const version = (file: string): string => {
        const st = statSync(file);
        return `${file}\n${st.size}\n${st.mtimeMs}`;
      };
      const id = createHash('sha256').update(`${version(dict)}\n${version(lm)}\n${size ?? 'all'}`).digest('hex').slice(0, 16);
      const dir = join(tmpdir(), `sgw-ps-lmdict-${id}`);
      buildOnce(dir, 'dict', (building) => {
        const vocabulary = this.lmVocabulary(size);
        const lines = readFileSync(dict, 'utf8').split('\n').filter((line) => {
          const space = line.indexOf(' ');
          return space > 0 && vocabulary.has(stripVariant(line.slice(0, space)));
        });
        writeFileSync(join(building, 'dict'), lines.join('\n') + '\n');
      });
      path = join(dir, 'dict');
    } catch {
      // Keep the model's dictionary.
    }
    this.recognizerDictPaths.set(size ?? 'all', path);
    return path;
  }

  /** The language model's words (its `size` most probable), from a copy loaded just for that (once per model, size and machine: the result is kept on disk). */
  private lmVocabulary(size: number | undefined): Set<string> {
    const { ps } = this;
    // Scores are not used, so any log base will do.
    const lmath = ps.logmath_init(1.0001, 0, 0);
    if (lmath === null) throw new Error('logmath_init failed');
    try {
      const lm = ps.ngram_model_read(null, this.model.lm, NGRAM_AUTO, lmath);
      if (lm === null) throw new Error(`could not read ${this.model.lm}`);
      try {
        const scored: { word: string; score: number }[] = [];
        const count = ps.ngram_model_unigram_count(lm);
        for (let wid = 0; wid < count; wid++) {
          const word = ps.ngram_word(lm, wid);
          if (word !== null) scored.push({ word, score: size === undefined ? 0 : ps.ngram_unigram_score(lm, wid) });
        }
        if (scored.length === 0) throw new Error(`no words in ${this.model.lm}`);
        if (size !== undefined) scored.sort((a, b) => b.score - a.score);
        return new Set(scored.slice(0, size).map((s) => s.word));
      } finally {
        ps.ngram_model_free(lm);
      }
    } finally {
      ps.logmath_free(lmath);
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
    try {
      buildOnce(dir, 'feat.params', (building) => {
        for (const file of readdirSync(this.model.hmm)) {
          if (file !== 'feat.params') symlinkSync(join(this.model.hmm, file), join(building, file));
        }
        const params = readFileSync(join(this.model.hmm, 'feat.params'), 'utf8').split('\n').filter((line) => !line.startsWith('-cmninit') && line.trim() !== '');
        writeFileSync(join(building, 'feat.params'), [...params, `-cmninit ${this.telephoneCmninit}`, ''].join('\n'));
      });
    } catch (err) {
      throw new GatewayError('SGW_ASR_UNAVAILABLE', `could not prepare the pocketsphinx telephone profile from ${this.model.hmm}: ${errorText(err)}`, { cause: err });
    }
    this.telephoneHmm = dir;
    return dir;
  }

  /**
   * A recogniser's decoder (`'lm'`: n-gram search over the shared language model, with the
   * flags of its profile or, for tier `record`, the record-only streams') or a spotter's.
   */
  private newDecoder(profile: Profile, search: 'lm' | { readonly kws: string; readonly dict: string }, tier: Tier = 'full'): DecoderHandle {
    const { ps, model } = this;
    const hmm = profile === 'narrowband' ? this.narrowbandHmm() : model.hmm;
    // No -lm for recognisers: ps_init would read a copy of the model for each decoder; it is added below.
    const searchArgs = search === 'lm' ? ['-dict', this.recognizerDict(this.vocabularyOf(tier))] : ['-kws', search.kws, '-dict', search.dict];
    const config = ps.cmd_ln_init(null, ps.ps_args(), 1,
      // No -logfn: logging is disabled process-wide by the bindings (see there).
      '-hmm', hmm, ...searchArgs,
      // Search pruning is for the n-gram search (keyword spotting has its own thresholds, and
      // flags of its own); the telephone profile has flags of its own, as pruning costs it more recall (docs/asr.md#speed).
      ...(search !== 'lm' ? this.spotterArgs : tier === 'record' && this.recordArgs !== undefined ? this.recordArgs : profile === 'wideband' ? this.extraArgs : this.narrowbandArgs),
      null);
    if (config === null) throw new GatewayError('SGW_ASR_UNAVAILABLE', 'pocketsphinx rejected its configuration');
    try {
      const decoder = ps.ps_init(config);
      if (decoder === null) {
        throw new GatewayError('SGW_ASR_UNAVAILABLE', `pocketsphinx could not load the model (hmm ${model.hmm}, lm ${model.lm}, dict ${model.dict}); ${POCKETSPHINX_INSTALL_HINT}`);
      }
      if (search === 'lm') {
        try {
          this.attachLanguageModel(decoder, config, tier);
        } catch (err) {
          ps.ps_free(decoder);
          throw err;
        }
      }
      const cmn = ps.feat_cmn(ps.ps_get_feat(decoder));
      if (cmn !== null) {
        // Cepstral vectors are 13 long in every model this engine loads (feat.params -ceplen default).
        const initial = new Float32Array(CEPSTRUM_LENGTH);
        ps.cmn_live_get(cmn, initial);
        this.initialCmn.set(decoder, initial);
      }
      return decoder;
    } finally {
      // ps_init holds its own reference to the configuration.
      ps.cmd_ln_free_r(config);
    }
  }

  /** The vocabulary a recogniser decoder of `tier` searches. */
  private vocabularyOf(tier: Tier): number | undefined {
    if (tier === 'full') return this.vocabulary;
    return this.recordVocabulary === 'all' ? undefined : this.recordVocabulary;
  }

  /**
   * What ps_init does for `-lm` (ps_set_lm_file, then ps_set_search), except
   * that the model is read once per engine: the first decoder's read, with its
   * configuration (-lw, -wip) and log tables, is the one every later decoder
   * searches (~27 MB saved per decoder). ps_set_lm retains the model, so the
   * decoders and the engine may be freed in any order.
   */
  private attachLanguageModel(decoder: DecoderHandle, config: ConfigHandle, tier: Tier): void {
    const { ps, model } = this;
    if (this.lm === undefined) {
      const lm = ps.ngram_model_read(config, model.lm, NGRAM_AUTO, ps.ps_get_logmath(decoder));
      if (lm === null) throw new GatewayError('SGW_ASR_UNAVAILABLE', `pocketsphinx could not read the language model ${model.lm}; ${POCKETSPHINX_INSTALL_HINT}`);
      this.lm = lm;
    }
    if (ps.ps_set_lm(decoder, DEFAULT_SEARCH, this.lm) !== 0 || ps.ps_set_search(decoder, DEFAULT_SEARCH) !== 0) {
      throw new GatewayError('SGW_ASR_UNAVAILABLE', `pocketsphinx could not set up the language model search (lm ${model.lm}, dict ${this.recognizerDict(this.vocabularyOf(tier))})`);
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Makes `dir` (in the temp folder) with `build` unless it is there already
 * (`marker` in it): built aside and renamed into place, so that a concurrent
 * builder (another worker) never sees half a folder.
 */
function buildOnce(dir: string, marker: string, build: (building: string) => void): void {
  if (existsSync(join(dir, marker))) return;
  const building = mkdtempSync(join(tmpdir(), 'sgw-ps-building-'));
  try {
    build(building);
    try {
      renameSync(building, dir);
    } catch (err) {
      // Another worker won the race: its folder is the same.
      if (!existsSync(join(dir, marker))) throw err;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

interface RecognizerSettings {
  readonly partialIntervalMs: number;
  /** N-best hypotheses after the best to give with each final. */
  readonly alternatives: number;
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
    if (this.settings.alternatives === 0 || text === '') return result;
    const alternatives = this.alternatives(decoder, text);
    return alternatives.length > 0 ? { ...result, alternatives } : result;
  }

  /**
   * The next distinct hypotheses of the utterance's lattice (A* over it,
   * best first). Entries that differ only in fillers or pronunciation
   * variants are one hypothesis; the walk is bounded so a huge lattice
   * cannot stall the worker.
   */
  private alternatives(decoder: DecoderHandle, best: string): Hypothesis[] {
    const wanted = this.settings.alternatives;
    const seen = new Set([best]);
    const out: Hypothesis[] = [];
    // The iterator starts on the best path.
    let nbest = this.ps.ps_nbest(decoder);
    for (let steps = 0; nbest !== null && out.length < wanted && steps < wanted * NBEST_STEPS_PER_HYPOTHESIS; steps++) {
      const seg = this.ps.ps_nbest_seg(nbest);
      if (seg !== null) {
        const words = this.segmentWords(seg);
        const text = words.map((w) => w.word).join(' ');
        if (text !== '' && !seen.has(text)) {
          seen.add(text);
          out.push({ text, words });
        }
      }
      nbest = this.ps.ps_nbest_next(nbest);
    }
    // ps_nbest_next frees the iterator when it runs out; stopping early leaves it to us.
    if (nbest !== null) this.ps.ps_nbest_free(nbest);
    return out;
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
    const seg = this.ps.ps_seg_iter(decoder);
    return seg === null ? [] : this.segmentWords(seg);
  }

  /** Words of a segment iterator, which it walks to the end (and so frees). */
  private segmentWords(first: SegmentHandle): WordTiming[] {
    const words: WordTiming[] = [];
    const base = this.sampleToMs(this.uttStartSample);
    const limit = this.sampleToMs(this.samplesFed);
    const sf: [number] = [0];
    const ef: [number] = [0];
    for (let seg: SegmentHandle | null = first; seg !== null; seg = this.ps.ps_seg_next(seg)) {
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
