/**
 * Known Vosk models, where they are cached, and what a loadable model directory looks like.
 *
 * Archive sizes and sha256 digests are left undefined unless known for certain (they cannot be
 * fetched from this build machine). Without them a download is verified against the server's
 * Content-Length (an interrupted transfer is caught as a size mismatch) and, after extraction,
 * by the model layout check below; the archive's sha256 is then recorded in the install's
 * manifest so `models verify` can compare later. Fill in `sizeBytes` / `sha256` to pin a model.
 *
 * Kept free of heavy imports: config.ts may import `resolveModelPath` from here.
 */
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GatewayError } from '../../errors.js';
import type { Language } from '../../language.js';

export interface CatalogEntry {
  readonly name: string;
  readonly language: Language;
  /** Archive URL; derived from the base URL, see `modelUrl`. */
  readonly url: string;
  /** Archive size in bytes, when known for certain. */
  readonly sizeBytes?: number | undefined;
  /** Lower-case hex sha256 of the archive, when known for certain. */
  readonly sha256?: string | undefined;
  readonly description: string;
}

export const DEFAULT_MODELS_BASE_URL = 'https://alphacephei.com/vosk/models';

/** File written into each installed model directory by `models download`. */
export const MANIFEST_FILE = '.speech-gateway-model.json';

interface CatalogSeed {
  readonly name: string;
  readonly language: Language;
  readonly description: string;
  readonly sizeBytes?: number;
  readonly sha256?: string;
}

const SEEDS: readonly CatalogSeed[] = [
  { name: 'vosk-model-small-en-us-0.15', language: 'en-US', description: 'small US English (~40 MB), 16 kHz; suggested default' },
  { name: 'vosk-model-en-us-0.22-lgraph', language: 'en-US', description: 'US English, dynamic graph (~130 MB)' },
  { name: 'vosk-model-en-us-0.22', language: 'en-US', description: 'large US English (~1.8 GB), server use' },
  { name: 'vosk-model-small-nl-0.22', language: 'nl-NL', description: 'small Dutch (~40 MB), 16 kHz; suggested default' },
  { name: 'vosk-model-nl-spraakherkenning-0.6-lgraph', language: 'nl-NL', description: 'Dutch, dynamic graph (~100 MB)' },
  { name: 'vosk-model-nl-spraakherkenning-0.6', language: 'nl-NL', description: 'large Dutch (~860 MB), server use' },
];

/** Model names are file names in the cache: letters, digits, dots, dashes, underscores. */
const MODEL_NAME = /^vosk-model-[a-z0-9][a-z0-9._-]*$/i;

export function isModelName(value: string): boolean {
  return MODEL_NAME.test(value) && !value.includes('..');
}

/** Base URL: explicit value, else VOSK_MODELS_BASE_URL, else alphacephei.com. No trailing slash. */
export function modelsBaseUrl(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['VOSK_MODELS_BASE_URL'];
  const base = explicit !== undefined && explicit !== '' ? explicit : fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_MODELS_BASE_URL;
  return base.replace(/\/+$/, '');
}

export function modelUrl(name: string, baseUrl: string = DEFAULT_MODELS_BASE_URL): string {
  return `${baseUrl.replace(/\/+$/, '')}/${name}.zip`;
}

/** The catalog with URLs on `baseUrl`. */
export function catalog(baseUrl: string = DEFAULT_MODELS_BASE_URL): CatalogEntry[] {
  return SEEDS.map((seed) => ({ ...seed, url: modelUrl(seed.name, baseUrl) }));
}

/** A catalog entry by name, or undefined. */
export function findModel(name: string, baseUrl: string = DEFAULT_MODELS_BASE_URL): CatalogEntry | undefined {
  return catalog(baseUrl).find((entry) => entry.name === name);
}

/** Default model for a language (the small one). */
export function defaultModelFor(language: Language): string {
  return language === 'nl-NL' ? 'vosk-model-small-nl-0.22' : 'vosk-model-small-en-us-0.15';
}

/** Cache directory: VOSK_MODELS_DIR, else $XDG_CACHE_HOME/speech-gateway/models, else ~/.cache/speech-gateway/models. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['VOSK_MODELS_DIR'];
  if (explicit !== undefined && explicit !== '') return path.resolve(expandHome(explicit));
  const xdg = env['XDG_CACHE_HOME'];
  const cacheHome = xdg !== undefined && xdg !== '' && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'speech-gateway', 'models');
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The manual alternative to `models download`, for error messages. */
export function manualInstallHint(name: string, url: string, cacheDir: string): string {
  return `download ${url}, unzip it into ${path.join(cacheDir, name)}, or set VOSK_MODEL=/path/to/model-dir`;
}

/**
 * VOSK_MODEL / VOSK_MODEL_NL as a path or a model name. Something that looks like a path
 * (contains a separator, starts with `.` or `~`) resolves as a path, unchecked (the engine checks
 * it and names it). A bare model name resolves to `<cacheDir>/<name>` when installed there, else
 * to `./<name>` when that directory exists; otherwise GatewayError SGW_ASR_UNAVAILABLE saying how
 * to install it.
 */
export function resolveModelPath(nameOrPath: string, cacheDir: string = defaultModelsDir()): string {
  const value = nameOrPath.trim();
  const looksLikePath = value.includes('/') || value.includes(path.sep) || value.startsWith('.') || value.startsWith('~') || path.isAbsolute(value);
  if (looksLikePath || !isModelName(value)) return path.resolve(expandHome(value));
  const cached = path.join(cacheDir, value);
  if (isDirectory(cached)) return cached;
  const local = path.resolve(value);
  if (isDirectory(local)) return local;
  const url = (findModel(value)?.url) ?? modelUrl(value);
  throw new GatewayError(
    'SGW_ASR_UNAVAILABLE',
    `Vosk model '${value}' is not installed in ${cacheDir}; run \`speech-gateway models download ${value}\`, or ${manualInstallHint(value, url, cacheDir)}`,
  );
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** One problem with a model directory's layout, e.g. `missing am/final.mdl`. */
export interface LayoutCheck {
  readonly ok: boolean;
  readonly problems: string[];
}

/**
 * What Vosk needs to load a model (the "v2" layout every current model uses):
 * am/final.mdl, conf/model.conf, conf/mfcc.conf (or conf/fbank.conf), and a graph:
 * graph/HCLG.fst (big, static graph) or graph/HCLr.fst + graph/Gr.fst (small, lookahead graph).
 * ivector/, rescore/, rnnlm/ are optional.
 */
export function checkModelLayout(dir: string): LayoutCheck {
  const problems: string[] = [];
  const file = (rel: string): boolean => {
    try {
      const st = statSync(path.join(dir, rel));
      return st.isFile() && st.size > 0;
    } catch {
      return false;
    }
  };
  if (!isDirectory(dir)) return { ok: false, problems: [`not a directory: ${dir}`] };
  if (!file('am/final.mdl')) problems.push('missing am/final.mdl');
  if (!file('conf/model.conf')) problems.push('missing conf/model.conf');
  if (!file('conf/mfcc.conf') && !file('conf/fbank.conf')) problems.push('missing conf/mfcc.conf');
  if (!file('graph/HCLG.fst') && !(file('graph/HCLr.fst') && file('graph/Gr.fst'))) {
    problems.push('missing graph/HCLG.fst (or graph/HCLr.fst with graph/Gr.fst)');
  }
  return { ok: problems.length === 0, problems };
}

/** Is `<cacheDir>/<name>` present (a directory)? Layout is not checked here. */
export function isInstalled(name: string, cacheDir: string): boolean {
  return existsSync(path.join(cacheDir, name)) && isDirectory(path.join(cacheDir, name));
}
