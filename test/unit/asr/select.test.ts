import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/errors.js';
import { resolveEngineConfig, supportedLanguages } from '../../../src/asr/engines/select.js';
import { DEBIAN_MODEL, pocketsphinxLibraryInstalled, pocketsphinxModelInstalled } from '../../../src/asr/engines/pocketsphinx/paths.js';

test('auto picks Vosk when a model is configured', () => {
  const config = resolveEngineConfig({ asr: 'auto', voskModels: { 'nl-NL': '/models/nl', 'en-US': '' } });
  assert.deepEqual(config, { engine: 'vosk', models: { 'nl-NL': '/models/nl' } });
  assert.deepEqual(supportedLanguages(config), ['nl-NL']);
});

test('auto falls back to the Debian pocketsphinx, or says how to install an engine', () => {
  if (!pocketsphinxLibraryInstalled() || !pocketsphinxModelInstalled()) {
    assert.throws(
      () => resolveEngineConfig({ asr: 'auto', voskModels: {} }),
      (err: unknown) => err instanceof GatewayError && /apt-get install libpocketsphinx3 pocketsphinx-en-us/.test(err.message) && /VOSK_MODEL=/.test(err.message),
    );
    return;
  }
  const config = resolveEngineConfig({ asr: 'auto', voskModels: {} });
  assert.deepEqual(config, { engine: 'pocketsphinx', ...DEBIAN_MODEL });
  assert.deepEqual(supportedLanguages(config), ['en-US']);
  assert.deepEqual(resolveEngineConfig({ asr: 'pocketsphinx', voskModels: { 'en-US': '/m' } }), config);
});

test('vosk without a model says how to get one', () => {
  assert.throws(
    () => resolveEngineConfig({ asr: 'vosk', voskModels: {} }),
    (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_UNAVAILABLE' && /VOSK_MODEL=/.test(err.message),
  );
});
