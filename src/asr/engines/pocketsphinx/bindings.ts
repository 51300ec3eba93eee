/**
 * koffi bindings for the pocketsphinx 5prealpha C API (Debian libpocketsphinx3).
 * Loaded once per thread on first use; every call is synchronous.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { GatewayError, errorMessage } from '../../../errors.js';
import { POCKETSPHINX_INSTALL_HINT, POCKETSPHINX_SONAME, SPHINXBASE_SONAME } from './paths.js';

declare const opaque: unique symbol;
/** Native handle; only ever passed back to the library. */
export type Handle<Tag extends string> = { readonly [opaque]: Tag };
export type ConfigHandle = Handle<'cmd_ln_t'>;
export type DecoderHandle = Handle<'ps_decoder_t'>;
export type SegmentHandle = Handle<'ps_seg_t'>;
export type NgramModelHandle = Handle<'ngram_model_t'>;
export type LogmathHandle = Handle<'logmath_t'>;
export type FeatHandle = Handle<'feat_t'>;
export type CmnHandle = Handle<'cmn_t'>;
export type NbestHandle = Handle<'ps_nbest_t'>;
type ArgDefs = Handle<'arg_t'>;

/** A koffi out-parameter: the callee writes element 0. */
type Out<T> = [T];

export interface PocketsphinxApi {
  /** Variadic: alternating ('str', value) pairs, terminated by ('str', null). */
  cmd_ln_init(inout: ConfigHandle | null, defn: ArgDefs, strict: number, ...args: (string | null)[]): ConfigHandle | null;
  cmd_ln_free_r(config: ConfigHandle): number;
  /** NULL disables sphinxbase logging process-wide. */
  err_set_logfp(fp: null): void;
  ps_args(): ArgDefs;
  ps_init(config: ConfigHandle): DecoderHandle | null;
  ps_free(ps: DecoderHandle): number;
  /** The decoder's own log tables (it keeps ownership). */
  ps_get_logmath(ps: DecoderHandle): LogmathHandle;
  /** Adds an n-gram search over `lm`; the search retains the model (ngram_model_set_init), the caller keeps its reference. */
  ps_set_lm(ps: DecoderHandle, name: string, lm: NgramModelHandle): number;
  ps_set_search(ps: DecoderHandle, name: string): number;
  /** `fileType` 0 is NGRAM_AUTO. Applies the configuration's -lw and -wip, as ps_init does. */
  ngram_model_read(config: ConfigHandle | null, fileName: string, fileType: number, lmath: LogmathHandle): NgramModelHandle | null;
  /** Drops one reference; frees the model with the last. */
  ngram_model_free(model: NgramModelHandle): number;
  /** Number of n-grams of each order; element 0 is the vocabulary size. */
  ngram_model_unigram_count(model: NgramModelHandle): number;
  ngram_word(model: NgramModelHandle, wid: number): string | null;
  /** Log probability of word `wid` with no history (its unigram), in the model's log base. */
  ngram_unigram_score(model: NgramModelHandle, wid: number): number;
  logmath_init(base: number, shift: number, useTable: number): LogmathHandle | null;
  logmath_free(lmath: LogmathHandle): number;
  /** Resets the frame counter (segment frames are relative to the last stream start, not the utterance). */
  ps_start_stream(ps: DecoderHandle): number;
  ps_start_utt(ps: DecoderHandle): number;
  ps_end_utt(ps: DecoderHandle): number;
  ps_process_raw(ps: DecoderHandle, data: Int16Array, nSamples: number, noSearch: number, fullUtt: number): number;
  ps_get_in_speech(ps: DecoderHandle): number;
  ps_get_hyp(ps: DecoderHandle, score: Out<number>): string | null;
  ps_seg_iter(ps: DecoderHandle): SegmentHandle | null;
  ps_seg_next(seg: SegmentHandle): SegmentHandle | null;
  ps_seg_word(seg: SegmentHandle): string | null;
  ps_seg_frames(seg: SegmentHandle, startFrame: Out<number>, endFrame: Out<number>): void;
  ps_seg_free(seg: SegmentHandle): void;
  /** The decoder's feature computation (it keeps ownership). */
  ps_get_feat(ps: DecoderHandle): FeatHandle;
  /** The live cepstral-mean state inside `feat` (its `cmn_struct` field). */
  feat_cmn(feat: FeatHandle): CmnHandle | null;
  /** Reads the live cepstral mean (`ceplen` floats). */
  cmn_live_get(cmn: CmnHandle, vec: Float32Array): void;
  /** Sets the live cepstral mean and restarts its running sum from it. */
  cmn_live_set(cmn: CmnHandle, vec: Float32Array): void;
  /** N-best iterator over the last utterance's lattice; null when there is none. */
  ps_nbest(ps: DecoderHandle): NbestHandle | null;
  /** Advances; null (and the iterator freed) at the end. */
  ps_nbest_next(nbest: NbestHandle): NbestHandle | null;
  ps_nbest_hyp(nbest: NbestHandle, score: Out<number>): string | null;
  ps_nbest_seg(nbest: NbestHandle): SegmentHandle | null;
  ps_nbest_free(nbest: NbestHandle): void;
}

let api: PocketsphinxApi | undefined;

function bind<F>(lib: LibraryHandle, prototype: string): F {
  // koffi functions are untyped; the interface above is the checked contract.
  return lib.func(prototype) as unknown as F;
}

/** Opens the libraries (once per thread). Throws SGW_ASR_UNAVAILABLE when they are missing. */
export function pocketsphinx(): PocketsphinxApi {
  if (api) return api;
  let base: LibraryHandle;
  let ps: LibraryHandle;
  try {
    base = koffi.load(SPHINXBASE_SONAME);
    ps = koffi.load(POCKETSPHINX_SONAME);
  } catch (err) {
    throw new GatewayError('SGW_ASR_UNAVAILABLE', `pocketsphinx library not loadable (${errorMessage(err)}); ${POCKETSPHINX_INSTALL_HINT}`, { cause: err });
  }
  koffi.opaque('cmd_ln_t');
  koffi.opaque('arg_t');
  koffi.opaque('ps_decoder_t');
  koffi.opaque('ps_seg_t');
  koffi.opaque('ngram_model_t');
  koffi.opaque('logmath_t');
  koffi.opaque('cmn_t');
  koffi.opaque('ps_nbest_t');
  // sphinxbase 5prealpha's feat_t up to `cmn_struct` (feat.h): there is no accessor for it.
  const FeatPrefix = koffi.struct('sgw_feat_prefix', {
    refcount: 'int',
    name: 'char *',
    cepsize: 'int32_t',
    n_stream: 'int32_t',
    stream_len: 'void *',
    window_size: 'int32_t',
    n_sv: 'int32_t',
    sv_len: 'void *',
    subvecs: 'void *',
    sv_buf: 'void *',
    sv_dim: 'int32_t',
    cmn: 'int',
    varnorm: 'int32_t',
    agc: 'int',
    compute_feat: 'void *',
    cmn_struct: 'cmn_t *',
  });
  koffi.pointer('feat_t', FeatPrefix);
  const cmdLnInit = bind<(...args: unknown[]) => ConfigHandle | null>(base, 'cmd_ln_t *cmd_ln_init(cmd_ln_t *inout, const arg_t *defn, int strict, ...)');
  const ngramNgScore = bind<(model: NgramModelHandle, wid: number, history: null, nHist: number, nUsed: [number]) => number>(
    base,
    'int32_t ngram_ng_score(ngram_model_t *model, int32_t wid, int32_t *history, int32_t n_hist, _Out_ int32_t *n_used)',
  );
  const ngramModelGetCounts = bind<(model: NgramModelHandle) => unknown>(base, 'const uint32_t *ngram_model_get_counts(ngram_model_t *model)');
  api = {
    cmd_ln_init: (inout, defn, strict, ...args) => cmdLnInit(inout, defn, strict, ...args.flatMap((a) => ['str', a])),
    cmd_ln_free_r: bind(base, 'int cmd_ln_free_r(cmd_ln_t *cmdln)'),
    err_set_logfp: bind(base, 'void err_set_logfp(void *stream)'),
    ps_args: bind(ps, 'const arg_t *ps_args()'),
    ps_init: bind(ps, 'ps_decoder_t *ps_init(cmd_ln_t *config)'),
    ps_free: bind(ps, 'int ps_free(ps_decoder_t *ps)'),
    ps_get_logmath: bind(ps, 'logmath_t *ps_get_logmath(ps_decoder_t *ps)'),
    ps_set_lm: bind(ps, 'int ps_set_lm(ps_decoder_t *ps, const char *name, ngram_model_t *lm)'),
    ps_set_search: bind(ps, 'int ps_set_search(ps_decoder_t *ps, const char *name)'),
    ngram_model_read: bind(base, 'ngram_model_t *ngram_model_read(cmd_ln_t *config, const char *file_name, int file_type, logmath_t *lmath)'),
    ngram_model_free: bind(base, 'int ngram_model_free(ngram_model_t *model)'),
    ngram_model_unigram_count: (model) => {
      const counts = ngramModelGetCounts(model);
      return counts === null ? 0 : (koffi.decode(counts, 'uint32_t') as number);
    },
    ngram_word: bind(base, 'const char *ngram_word(ngram_model_t *model, int32_t wid)'),
    ngram_unigram_score: (model, wid) => ngramNgScore(model, wid, null, 0, [0]),
    logmath_init: bind(base, 'logmath_t *logmath_init(double base, int shift, int use_table)'),
    logmath_free: bind(base, 'int logmath_free(logmath_t *lmath)'),
    ps_start_stream: bind(ps, 'int ps_start_stream(ps_decoder_t *ps)'),
    ps_start_utt: bind(ps, 'int ps_start_utt(ps_decoder_t *ps)'),
    ps_end_utt: bind(ps, 'int ps_end_utt(ps_decoder_t *ps)'),
    ps_process_raw: bind(ps, 'int ps_process_raw(ps_decoder_t *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)'),
    ps_get_in_speech: bind(ps, 'uint8_t ps_get_in_speech(ps_decoder_t *ps)'),
    ps_get_hyp: bind(ps, 'const char *ps_get_hyp(ps_decoder_t *ps, _Out_ int32_t *out_best_score)'),
    ps_seg_iter: bind(ps, 'ps_seg_t *ps_seg_iter(ps_decoder_t *ps)'),
    ps_seg_next: bind(ps, 'ps_seg_t *ps_seg_next(ps_seg_t *seg)'),
    ps_seg_word: bind(ps, 'const char *ps_seg_word(ps_seg_t *seg)'),
    ps_seg_frames: bind(ps, 'void ps_seg_frames(ps_seg_t *seg, _Out_ int *out_sf, _Out_ int *out_ef)'),
    ps_seg_free: bind(ps, 'void ps_seg_free(ps_seg_t *seg)'),
    ps_get_feat: bind(ps, 'void *ps_get_feat(ps_decoder_t *ps)'),
    feat_cmn: (feat) => (koffi.decode(feat, FeatPrefix) as { cmn_struct: CmnHandle | null }).cmn_struct,
    cmn_live_get: bind(base, 'void cmn_live_get(cmn_t *cmn, float *vec)'),
    cmn_live_set: bind(base, 'void cmn_live_set(cmn_t *cmn, const float *vec)'),
    ps_nbest: bind(ps, 'ps_nbest_t *ps_nbest(ps_decoder_t *ps)'),
    ps_nbest_next: bind(ps, 'ps_nbest_t *ps_nbest_next(ps_nbest_t *nbest)'),
    ps_nbest_hyp: bind(ps, 'const char *ps_nbest_hyp(ps_nbest_t *nbest, _Out_ int32_t *out_score)'),
    ps_nbest_seg: bind(ps, 'ps_seg_t *ps_nbest_seg(ps_nbest_t *nbest)'),
    ps_nbest_free: bind(ps, 'void ps_nbest_free(ps_nbest_t *nbest)'),
  };
  // Quiet, without `-logfn /dev/null`: that makes every ps_init fopen a new
  // log FILE and fclose the previous, process-wide one, which another worker
  // thread may be writing to at that moment. Disabling once is race-free.
  api.err_set_logfp(null);
  return api;
}
