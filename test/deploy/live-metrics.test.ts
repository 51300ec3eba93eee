/**
 * The kit against a real gateway process (`node dist/src/cli.js serve`):
 * every metric the dashboard and the alert rules query is on its /metrics,
 * and the capacity metrics the kit added (legs, recognition load against the
 * admission limit) follow a real call started and ended over gRPC.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayProcess, metricSum } from '../../loadtest/GatewayProcess.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { exposedMetricTypes, isExposed, metricNames } from '../helpers/promql.js';
import { PROMETHEUS_SERIES, kitQueries, rules } from './kitFiles.js';

const ASR_CAPACITY = 1.5;
const ASR_LEG_COST = 0.2;

let dir: string;
let gateway: GatewayProcess;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-kit-'));
  gateway = await GatewayProcess.start({
    env: {
      ASR: 'pocketsphinx',
      ASR_WORKERS: '1',
      ASR_MODE: 'transcribe',
      ASR_CAPACITY: String(ASR_CAPACITY),
      ASR_LEG_COST: String(ASR_LEG_COST),
      JWT_SECRET: '',
      CALL_RECORDS_FILE: path.join(dir, 'records.jsonl'),
      LOG_LEVEL: 'warn',
    },
    rtpPortMin: 48800,
    rtpPortMax: 48809,
    logFile: path.join(dir, 'gateway.log'),
  });
});

after(async () => {
  await gateway.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the kit on a live gateway', { timeout: 120_000 }, () => {
  test('every metric the dashboard and the alert rules query is on the live /metrics scrape', async () => {
    const types = exposedMetricTypes(await gateway.metricsText());
    assert.ok(types.has('sgw_active_calls'), 'the scrape is the gateway\'s');
    const recorded = new Set(rules().flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));
    const missing = new Map<string, string[]>();
    let checked = 0;
    for (const { where, expr } of kitQueries()) {
      for (const name of metricNames(expr)) {
        checked++;
        if (PROMETHEUS_SERIES.has(name) || recorded.has(name) || isExposed(name, types)) continue;
        missing.set(name, [...(missing.get(name) ?? []), where]);
      }
    }
    assert.ok(checked >= 40, `${checked} metric references checked`);
    const report = [...missing].map(([name, wheres]) => `${name} (${[...new Set(wheres)].join('; ')})`).join('\n  ');
    assert.equal(missing.size, 0, `queried by the kit but not exposed by the gateway:\n  ${report}`);
  });

  test('legs, recognition load and the admission limit follow a real call', async () => {
    const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`);
    const sample = async (name: string): Promise<number> => metricSum(await gateway.metricsText(), name);
    /** Load and capacity are sampled every 5 s (admission control's period). */
    const settles = async (name: string, expected: number): Promise<void> => {
      const deadline = Date.now() + 15_000;
      let value = await sample(name);
      while (Math.abs(value - expected) > 1e-9 && Date.now() < deadline) {
        await sleep(250);
        value = await sample(name);
      }
      assert.ok(Math.abs(value - expected) < 1e-9, `${name} is ${value}, expected ${expected}`);
    };
    try {
      assert.equal(await sample('sgw_active_legs'), 0);
      await settles('sgw_asr_capacity_cores', ASR_CAPACITY);
      await control.startCall({
        call_id: 'kit-1',
        agent_id: 'agent-1',
        queue: 'orders',
        language: 'en-US',
        legs: [
          { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' },
          { role: 'LEG_ROLE_AGENT', codec: 'CODEC_PCMU' },
        ],
      });
      assert.equal(await sample('sgw_active_legs'), 2);
      assert.equal(await sample('sgw_active_calls'), 1);
      // No audio yet, so the cost per leg is still the prior: two legs of ASR_LEG_COST.
      await settles('sgw_asr_load_cores', 2 * ASR_LEG_COST);
      await control.endCall('kit-1');
      assert.equal(await sample('sgw_active_legs'), 0);
      await settles('sgw_asr_load_cores', 0);
      await settles('sgw_asr_capacity_cores', ASR_CAPACITY);
    } finally {
      control.close();
    }
  });
});
