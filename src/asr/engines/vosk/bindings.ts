/**
 * koffi bindings for the Vosk C API, using the libvosk.so shipped in the
 * `vosk` npm package (its own index.js needs ffi-napi, which we do not use).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';
import { GatewayError, errorMessage } from '../../../errors.js';

declare const opaque: unique symbol;
export type Handle<Tag extends string> = { readonly [opaque]: Tag };
export type ModelHandle = Handle<'VoskModel'>;
export type RecognizerHandle = Handle<'VoskRecognizer'>;

export interface VoskApi {
  vosk_set_log_level(level: number): void;
  /** NULL when the directory holds no usable model. Never pass NULL on: libvosk does not check. */
  vosk_model_new(path: string): ModelHandle | null;
  vosk_model_free(model: ModelHandle): void;
  vosk_recognizer_new(model: ModelHandle, sampleRate: number): RecognizerHandle | null;
  /** A recogniser restricted to `grammar`, a JSON list of phrases (`"[unk]"` absorbs everything else). */
  vosk_recognizer_new_grm(model: ModelHandle, sampleRate: number, grammar: string): RecognizerHandle | null;
  vosk_recognizer_set_words(rec: RecognizerHandle, words: number): void;
  vosk_recognizer_set_partial_words(rec: RecognizerHandle, words: number): void;
  /** With n > 0 a final is `{"alternatives": [{text, confidence, result}, …]}`, best first. */
  vosk_recognizer_set_max_alternatives(rec: RecognizerHandle, n: number): void;
  /** 1 at an endpoint (read `vosk_recognizer_result`), 0 otherwise, -1 on error. */
  vosk_recognizer_accept_waveform_s(rec: RecognizerHandle, data: Int16Array, length: number): number;
  vosk_recognizer_result(rec: RecognizerHandle): string;
  vosk_recognizer_partial_result(rec: RecognizerHandle): string;
  vosk_recognizer_final_result(rec: RecognizerHandle): string;
  vosk_recognizer_free(rec: RecognizerHandle): void;
}

let api: VoskApi | undefined;

function bind<F>(lib: LibraryHandle, prototype: string): F {
  // koffi functions are untyped; the interface above is the checked contract.
  return lib.func(prototype) as unknown as F;
}

/** Path of the bundled libvosk for this platform. */
export function voskLibraryPath(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new GatewayError('SGW_ASR_UNAVAILABLE', `the bundled Vosk library is only wired up for linux-x64, not ${process.platform}-${process.arch}`);
  }
  const pkg = createRequire(import.meta.url).resolve('vosk/package.json');
  return join(dirname(pkg), 'lib', 'linux-x86_64', 'libvosk.so');
}

/** Opens libvosk (once per thread) and silences its Kaldi logging. */
export function vosk(): VoskApi {
  if (api) return api;
  let lib: LibraryHandle;
  try {
    lib = koffi.load(voskLibraryPath());
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('SGW_ASR_UNAVAILABLE', `Vosk library not loadable (${errorMessage(err)}); reinstall the vosk npm package`, { cause: err });
  }
  koffi.opaque('VoskModel');
  koffi.opaque('VoskRecognizer');
  api = {
    vosk_set_log_level: bind(lib, 'void vosk_set_log_level(int log_level)'),
    vosk_model_new: bind(lib, 'VoskModel *vosk_model_new(const char *model_path)'),
    vosk_model_free: bind(lib, 'void vosk_model_free(VoskModel *model)'),
    vosk_recognizer_new: bind(lib, 'VoskRecognizer *vosk_recognizer_new(VoskModel *model, float sample_rate)'),
    vosk_recognizer_new_grm: bind(lib, 'VoskRecognizer *vosk_recognizer_new_grm(VoskModel *model, float sample_rate, const char *grammar)'),
    vosk_recognizer_set_words: bind(lib, 'void vosk_recognizer_set_words(VoskRecognizer *recognizer, int words)'),
    vosk_recognizer_set_partial_words: bind(lib, 'void vosk_recognizer_set_partial_words(VoskRecognizer *recognizer, int partial_words)'),
    vosk_recognizer_set_max_alternatives: bind(lib, 'void vosk_recognizer_set_max_alternatives(VoskRecognizer *recognizer, int max_alternatives)'),
    vosk_recognizer_accept_waveform_s: bind(lib, 'int vosk_recognizer_accept_waveform_s(VoskRecognizer *recognizer, const int16_t *data, int length)'),
    vosk_recognizer_result: bind(lib, 'const char *vosk_recognizer_result(VoskRecognizer *recognizer)'),
    vosk_recognizer_partial_result: bind(lib, 'const char *vosk_recognizer_partial_result(VoskRecognizer *recognizer)'),
    vosk_recognizer_final_result: bind(lib, 'const char *vosk_recognizer_final_result(VoskRecognizer *recognizer)'),
    vosk_recognizer_free: bind(lib, 'void vosk_recognizer_free(VoskRecognizer *recognizer)'),
  };
  api.vosk_set_log_level(-1);
  return api;
}
