import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POCKETSPHINX_AGENT_DEFAULT_ARGS, POCKETSPHINX_AGENT_DEFAULT_VOCABULARY, POCKETSPHINX_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_VOCABULARY, POCKETSPHINX_NARROWBAND_DEFAULT_ARGS, parsePocketsphinxArgs } from '../../../src/asr/engines/pocketsphinx/args.js';
import { loadConfig } from '../../../src/config.js';

test('POCKETSPHINX_ARGS: flag/value pairs, the default when unset or empty, none for the library defaults', () => {
  assert.deepEqual(parsePocketsphinxArgs(' -maxhmmpf 3000   -topn 2 '), ['-maxhmmpf', '3000', '-topn', '2']);
  assert.deepEqual(parsePocketsphinxArgs('none'), []);
  assert.deepEqual(loadConfig([], {}).pocketsphinxArgs, POCKETSPHINX_DEFAULT_ARGS);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_ARGS: '' }).pocketsphinxArgs, POCKETSPHINX_DEFAULT_ARGS);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_ARGS: 'none' }).pocketsphinxArgs, []);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_ARGS: '-fwdflat no' }).pocketsphinxArgs, ['-fwdflat', 'no']);
});

test('POCKETSPHINX_ARGS: odd counts, non-flags and the flags the engine owns are refused with the reason', () => {
  assert.match(String(parsePocketsphinxArgs('-maxhmmpf')), /odd number/);
  assert.match(String(parsePocketsphinxArgs('maxhmmpf 3000')), /'maxhmmpf' is not a flag/);
  assert.match(String(parsePocketsphinxArgs('-lm /tmp/other.lm')), /without -lm/);
  assert.throws(() => loadConfig([], { POCKETSPHINX_ARGS: '-dict x' }), /pocketsphinx.*without -dict/i);
});

test('POCKETSPHINX_NARROWBAND_ARGS: the telephone profile has flags of its own, parsed and checked the same way', () => {
  assert.deepEqual(loadConfig([], {}).pocketsphinxNarrowbandArgs, POCKETSPHINX_NARROWBAND_DEFAULT_ARGS);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_NARROWBAND_ARGS: '-maxhmmpf 5000' }).pocketsphinxNarrowbandArgs, ['-maxhmmpf', '5000']);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_NARROWBAND_ARGS: 'none' }).pocketsphinxNarrowbandArgs, []);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_NARROWBAND_ARGS: '-maxhmmpf 5000' }).pocketsphinxArgs, POCKETSPHINX_DEFAULT_ARGS, 'independent of the wideband flags');
  assert.throws(() => loadConfig([], { POCKETSPHINX_NARROWBAND_ARGS: '-hmm /x' }), /without -hmm/);
});

test('POCKETSPHINX_VOCABULARY: a number of words (default 40000), all for the whole model, nonsense refused', () => {
  assert.equal(loadConfig([], {}).pocketsphinxVocabulary, POCKETSPHINX_DEFAULT_VOCABULARY);
  assert.equal(loadConfig([], { POCKETSPHINX_VOCABULARY: '20000' }).pocketsphinxVocabulary, 20000);
  assert.equal(loadConfig([], { POCKETSPHINX_VOCABULARY: 'all' }).pocketsphinxVocabulary, undefined);
  assert.throws(() => loadConfig([], { POCKETSPHINX_VOCABULARY: '12' }), /POCKETSPHINX_VOCABULARY|pocketsphinxVocabulary/);
  assert.throws(() => loadConfig([], { POCKETSPHINX_VOCABULARY: 'many' }), /POCKETSPHINX_VOCABULARY|pocketsphinxVocabulary/);
});

test('POCKETSPHINX_SPOTTER_ARGS: flags of the keyword spotters, none by default, checked like the others', () => {
  assert.deepEqual(loadConfig([], {}).pocketsphinxSpotterArgs, []);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_SPOTTER_ARGS: '-topn 2' }).pocketsphinxSpotterArgs, ['-topn', '2']);
  assert.throws(() => loadConfig([], { POCKETSPHINX_SPOTTER_ARGS: '-kws /tmp/x' }), /pocketsphinxSpotterArgs|POCKETSPHINX_SPOTTER_ARGS|-kws/);
});

test('POCKETSPHINX_AGENT_ARGS: the agent legs\' own flags by default, same for the customer\'s, none for the library\'s, checked like the others', () => {
  assert.deepEqual(loadConfig([], {}).pocketsphinxAgentArgs, POCKETSPHINX_AGENT_DEFAULT_ARGS);
  assert.notDeepEqual(POCKETSPHINX_AGENT_DEFAULT_ARGS, POCKETSPHINX_DEFAULT_ARGS, 'a cheaper search than the customer leg\'s');
  assert.equal(loadConfig([], { POCKETSPHINX_AGENT_ARGS: 'same' }).pocketsphinxAgentArgs, undefined);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_AGENT_ARGS: 'none' }).pocketsphinxAgentArgs, []);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_AGENT_ARGS: '-maxhmmpf 1000' }).pocketsphinxAgentArgs, ['-maxhmmpf', '1000']);
  assert.deepEqual(loadConfig([], { POCKETSPHINX_AGENT_ARGS: '-maxhmmpf 1000' }).pocketsphinxArgs, POCKETSPHINX_DEFAULT_ARGS, 'independent of the customer leg\'s flags');
  assert.throws(() => loadConfig([], { POCKETSPHINX_AGENT_ARGS: '-kws x' }), /without -kws/);
  assert.throws(() => loadConfig([], { POCKETSPHINX_AGENT_ARGS: '-maxhmmpf' }), /odd number/);
});

test('POCKETSPHINX_AGENT_VOCABULARY: a number of words (default 20000), same for POCKETSPHINX_VOCABULARY, all for the whole model', () => {
  assert.equal(loadConfig([], {}).pocketsphinxAgentVocabulary, POCKETSPHINX_AGENT_DEFAULT_VOCABULARY);
  assert.ok(POCKETSPHINX_AGENT_DEFAULT_VOCABULARY < POCKETSPHINX_DEFAULT_VOCABULARY);
  assert.equal(loadConfig([], { POCKETSPHINX_AGENT_VOCABULARY: '30000' }).pocketsphinxAgentVocabulary, 30000);
  assert.equal(loadConfig([], { POCKETSPHINX_AGENT_VOCABULARY: 'same' }).pocketsphinxAgentVocabulary, undefined);
  assert.equal(loadConfig([], { POCKETSPHINX_AGENT_VOCABULARY: 'all' }).pocketsphinxAgentVocabulary, 'all');
  assert.throws(() => loadConfig([], { POCKETSPHINX_AGENT_VOCABULARY: 'few' }), /POCKETSPHINX_AGENT_VOCABULARY|pocketsphinxAgentVocabulary/);
});
