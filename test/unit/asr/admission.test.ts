import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdmissionControl } from '../../../src/asr/AdmissionControl.js';
import type { SpeechServiceUsage } from '../../../src/asr/SpeechService.js';
import { GatewayError } from '../../../src/errors.js';
import { GatewayMetrics } from '../../../src/metrics.js';

describe('admission control', () => {
  test('the cost per leg follows the measured real-time factor', () => {
    const stats: { -readonly [K in keyof SpeechServiceUsage]: SpeechServiceUsage[K] } = { openStreams: 4, audioSeconds: 0, processingSeconds: 0, capacity: 2 };
    const admission = new AdmissionControl({ speech: { usage: () => stats }, priorLegCost: 0.2, smoothing: 1 });
    assert.ok(Math.abs(admission.capacity - 1.7) < 1e-9, 'default: 0.85 of the service capacity');
    assert.ok(Math.abs(admission.load - 0.8) < 1e-9);
    admission.sample();
    // 40 s of audio took 2 s to recognise: 0.05 cores per leg.
    stats.audioSeconds = 40;
    stats.processingSeconds = 2;
    admission.sample();
    assert.ok(Math.abs(admission.legCost - 0.05) < 1e-9);
    admission.admit(20);
    assert.throws(() => admission.admit(31), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_OVERLOADED');
    // Too little audio since the last sample: the estimate stays.
    stats.audioSeconds = 41;
    stats.processingSeconds = 3;
    admission.sample();
    assert.ok(Math.abs(admission.legCost - 0.05) < 1e-9);
  });

  test('a configured capacity overrides the service capacity, which is read on each decision', () => {
    const stats: { -readonly [K in keyof SpeechServiceUsage]: SpeechServiceUsage[K] } = { openStreams: 0, audioSeconds: 0, processingSeconds: 0, capacity: 4 };
    const fixed = new AdmissionControl({ speech: { usage: () => stats }, capacity: 1, priorLegCost: 0.5 });
    fixed.admit(2);
    assert.throws(() => fixed.admit(3), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_OVERLOADED');
    const following = new AdmissionControl({ speech: { usage: () => stats }, headroom: 1, priorLegCost: 0.5 });
    following.admit(8);
    stats.capacity = 1;
    assert.throws(() => following.admit(3), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_OVERLOADED');
  });

  test('load and capacity are reported to the metrics at start and at each sample', async () => {
    const stats: { -readonly [K in keyof SpeechServiceUsage]: SpeechServiceUsage[K] } = { openStreams: 0, audioSeconds: 0, processingSeconds: 0, capacity: 2 };
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const gauge = async (name: 'asrLoadCores' | 'asrCapacityCores'): Promise<number> => (await metrics[name].get()).values[0]?.value ?? NaN;
    const admission = new AdmissionControl({ speech: { usage: () => stats }, priorLegCost: 0.25, smoothing: 1, metrics });
    assert.equal(await gauge('asrLoadCores'), 0);
    assert.ok(Math.abs((await gauge('asrCapacityCores')) - 1.7) < 1e-9);
    stats.openStreams = 6;
    stats.capacity = 1;
    admission.sample();
    assert.ok(Math.abs((await gauge('asrLoadCores')) - 1.5) < 1e-9, 'six legs at the prior 0.25');
    assert.ok(Math.abs((await gauge('asrCapacityCores')) - 0.85) < 1e-9, 'the capacity as admission reads it now');
    // A measured cost moves the reported load at the next sample.
    stats.audioSeconds = 100;
    stats.processingSeconds = 5;
    admission.sample();
    admission.sample();
    assert.ok(Math.abs((await gauge('asrLoadCores')) - 0.3) < 1e-9, 'six legs at the measured 0.05');
  });
});
