import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CallRecordWriter } from '../../../src/analytics/summary/CallRecordWriter.js';
import { createLogger } from '../../../src/logger.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import type { CallSummary } from '../../../src/events.js';
import { metricValue } from '../../helpers/gateway.js';

const record = (callId: string): CallSummary => ({
  callId,
  agentId: 'a',
  queue: 'q',
  language: 'en-US',
  startedAt: new Date(0).toISOString(),
  endedAt: new Date(1000).toISOString(),
  endReason: 'ended-by-request',
  durationMs: 1000,
  primaryContactReason: 'cancel_order',
  intents: [],
  escalation: { peakLevel: 'calm', peakScore: 0, reasons: [] },
  talk: { customerMs: 0, agentMs: 0, customerRatio: 0, overtalkCount: 0, overtalkMs: 0, longestSilenceMs: 0 },
  sentiment: { customer: null, agent: null },
  utterances: { customer: 0, agent: 0 },
});

describe('call records', () => {
  test('one JSON line per call, in order, all written by close()', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sgw-records-'));
    try {
      const metrics = new GatewayMetrics({ defaultMetrics: false });
      const file = path.join(dir, 'nested', 'records.jsonl');
      const writer = new CallRecordWriter({ file, metrics, logger: createLogger('silent') });
      for (let i = 0; i < 500; i++) writer.write(record(`c${i}`));
      await writer.close();
      await writer.close();
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      assert.equal(lines.length, 500);
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as CallSummary).callId), Array.from({ length: 500 }, (_, i) => `c${i}`));
      assert.equal(await metricValue(metrics, 'sgw_call_records_total', { outcome: 'written' }), 500);
      writer.write(record('late'));
      assert.equal(await metricValue(metrics, 'sgw_call_records_total', { outcome: 'dropped' }), 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an unwritable file is counted and logged, never thrown; a full queue drops and counts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sgw-records-'));
    try {
      const blocker = path.join(dir, 'not-a-dir');
      await writeFile(blocker, 'x');
      const metrics = new GatewayMetrics({ defaultMetrics: false });
      const writer = new CallRecordWriter({ file: path.join(blocker, 'records.jsonl'), metrics, logger: createLogger('silent'), maxPending: 1 });
      writer.write(record('a'));
      writer.write(record('b'));
      writer.write(record('c'));
      await writer.close();
      assert.equal(await metricValue(metrics, 'sgw_call_records_total', { outcome: 'failed' }), 2);
      assert.equal(await metricValue(metrics, 'sgw_call_records_total', { outcome: 'dropped' }), 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
