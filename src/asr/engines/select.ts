import { GatewayError } from '../../errors.js';
import { LANGUAGES, type Language } from '../../language.js';
import type { EngineConfig } from '../types.js';
import { DEBIAN_MODEL, POCKETSPHINX_INSTALL_HINT, pocketsphinxLibraryInstalled, pocketsphinxModelInstalled } from './pocketsphinx/paths.js';

export type AsrChoice = 'auto' | 'vosk' | 'pocketsphinx';

export interface AsrSelection {
  readonly asr: AsrChoice;
  /** Vosk model directory per language; empty strings count as unset. */
  readonly voskModels: Partial<Record<Language, string>>;
}

const VOSK_HINT = 'or download a Vosk model (e.g. vosk-model-small-en-us-0.15 from https://alphacephei.com/vosk/models) and set VOSK_MODEL=/path/to/dir';

function configuredVoskModels(models: Partial<Record<Language, string>>): Partial<Record<Language, string>> {
  const out: Partial<Record<Language, string>> = {};
  for (const language of LANGUAGES) {
    const path = models[language];
    if (path !== undefined && path !== '') out[language] = path;
  }
  return out;
}

/**
 * Picks the ASR engine. `auto` prefers Vosk when any model is configured
 * (better accuracy, more languages), else pocketsphinx when the Debian library
 * and en-US model are installed. Only presence is checked here; models are
 * loaded (and fully validated) when the worker pool starts.
 *
 * @throws GatewayError SGW_ASR_UNAVAILABLE saying how to install an engine.
 */
export function resolveEngineConfig(selection: AsrSelection): EngineConfig {
  const models = configuredVoskModels(selection.voskModels);
  const haveVosk = Object.keys(models).length > 0;
  const vosk: EngineConfig = { engine: 'vosk', models };
  const pocketsphinx: EngineConfig = { engine: 'pocketsphinx', ...DEBIAN_MODEL };

  switch (selection.asr) {
    case 'vosk':
      if (!haveVosk) throw new GatewayError('SGW_ASR_UNAVAILABLE', `ASR engine vosk selected but no Vosk model configured; download a model (e.g. vosk-model-small-en-us-0.15 from https://alphacephei.com/vosk/models) and set VOSK_MODEL=/path/to/dir`);
      return vosk;
    case 'pocketsphinx':
      assertPocketsphinxInstalled(`ASR engine pocketsphinx selected but`);
      return pocketsphinx;
    case 'auto':
      if (haveVosk) return vosk;
      assertPocketsphinxInstalled('no ASR engine available:', `; ${VOSK_HINT}`);
      return pocketsphinx;
  }
}

function assertPocketsphinxInstalled(prefix: string, suffix = ''): void {
  if (!pocketsphinxLibraryInstalled()) {
    throw new GatewayError('SGW_ASR_UNAVAILABLE', `${prefix} the pocketsphinx library (libpocketsphinx.so.3) is not installed; ${POCKETSPHINX_INSTALL_HINT}${suffix}`);
  }
  if (!pocketsphinxModelInstalled()) {
    throw new GatewayError('SGW_ASR_UNAVAILABLE', `${prefix} the pocketsphinx en-US model is missing from ${DEBIAN_MODEL.hmm}; ${POCKETSPHINX_INSTALL_HINT}${suffix}`);
  }
}

/** Languages an engine configuration can recognise. */
export function supportedLanguages(config: EngineConfig): Language[] {
  switch (config.engine) {
    case 'pocketsphinx':
      return ['en-US'];
    case 'vosk':
      return LANGUAGES.filter((language) => {
        const path = config.models[language];
        return path !== undefined && path !== '';
      });
  }
}
