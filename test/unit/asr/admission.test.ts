import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdmissionControl } from '../../../src/asr/AdmissionControl.js';
import type { AsrPoolStats } from '../../../src/asr/pool/AsrWorkerPool.js';
import { GatewayError } from '../../../src/errors.js';

describe('admission control', () => {
  test('the cost per leg follows the measured real-time factor', () => {
    const stats: { -readonly [K in keyof AsrPoolStats]: AsrPoolStats[K] } = { engine: 'test', streamsPerWorker: [2, 2], audioSeconds: 0, processingSeconds: 0, workerRestarts: 0 };
    const admission = new AdmissionControl({ stats: () => stats, capacityCores: 1.7, priorLegCost: 0.2, smoothing: 1 });
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
});
