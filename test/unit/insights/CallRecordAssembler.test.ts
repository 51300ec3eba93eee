/**
 * The record of a call as CallRecordAssembler builds it from the events a
 * real EventHub publishes: every intent with its time, leg, source and
 * evidence; DTMF presses grouped into spans (no digits kept), secure-pause
 * and platform-pause spans; final utterances of both legs only with
 * retention on; the grammar's marks of the primary reason; bounds per call;
 * and a listener failure never reaching the publisher.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallSummary, UnpublishedEvent } from '../../../src/events.js';
import type { CallRecord } from '../../../src/insights/CallRecord.js';
import { CallRecordAssembler, MAX_INTENTS_PER_CALL, type ReasonMarks } from '../../../src/insights/CallRecordAssembler.js';
import { createLogger } from '../../../src/logger.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import { EventHub } from '../../../src/push/EventHub.js';

const MARKS: Record<string, ReasonMarks> = {
  order_status: { avoidable: { channel: 'track-and-trace page' }, churnRisk: false },
  churn: { avoidable: undefined, churnRisk: true },
};

function summary(callId: string, overrides: Partial<CallSummary> = {}): CallSummary {
  return {
    callId,
    agentId: 'agent-1',
    queue: 'delivery',
    language: 'en-US',
    startedAt: '2026-12-01T10:00:00.000Z',
    endedAt: '2026-12-01T10:05:00.000Z',
    endReason: 'ended-by-request',
    durationMs: 300_000,
    primaryContactReason: 'order_status',
    intents: [
      { intent: 'order_status', kind: 'intent', leg: 'customer', count: 1, firstAtMs: 4000 },
      { intent: 'repeat_contact', kind: 'escalation', leg: 'customer', count: 1, firstAtMs: 9000 },
    ],
    escalation: { peakLevel: 'elevated', peakScore: 0.4, reasons: [] },
    talk: { customerMs: 1000, agentMs: 1000, customerRatio: 0.5, overtalkCount: 0, overtalkMs: 0, longestSilenceMs: 0 },
    sentiment: { customer: null, agent: null },
    utterances: { customer: 2, agent: 1 },
    ...overrides,
  };
}

function setup(retainTranscripts: boolean): { hub: EventHub; records: CallRecord[]; publish: (e: UnpublishedEvent) => void; assembler: CallRecordAssembler } {
  const hub = new EventHub(new GatewayMetrics({ defaultMetrics: false }));
  const records: CallRecord[] = [];
  const assembler = new CallRecordAssembler({ hub, sink: (r) => records.push(r), marks: (_language, intent) => MARKS[intent], retainTranscripts, logger: createLogger('silent') });
  return { hub, records, publish: (e) => hub.publish(e), assembler };
}

const intent = (callId: string, name: string, kind: 'intent' | 'escalation', startMs: number, evidence: 'exact' | 'classifier' = 'exact'): UnpublishedEvent => ({
  type: 'intent',
  callId,
  leg: 'customer',
  intent: name,
  kind,
  severity: 'info',
  text: `${name} words`,
  confidence: 0.9,
  startMs,
  endMs: startMs + 1000,
  partial: false,
  utteranceId: 1,
  source: 'transcript',
  evidence,
  alternative: 0,
  slots: {},
  entities: [],
});

describe('CallRecordAssembler', () => {
  test('a call: intents with time, leg, source and evidence; DTMF runs and pauses as spans; both legs\' finals; marks and repeat contact', () => {
    const { publish, records } = setup(true);
    publish({ type: 'call.started', callId: 'c1', agentId: 'agent-1', queue: 'delivery', language: 'en-US', transcriptsOnly: false, legs: [] });
    publish({ type: 'transcript', callId: 'c1', leg: 'agent', final: true, utteranceId: 0, text: 'how can i help', startMs: 500, endMs: 1500 });
    publish({ type: 'transcript', callId: 'c1', leg: 'customer', final: false, utteranceId: 1, text: 'where is', startMs: 3000, endMs: 3500 });
    publish({ type: 'transcript', callId: 'c1', leg: 'customer', final: true, utteranceId: 1, text: 'where is my order [card]', startMs: 3000, endMs: 6000 });
    publish(intent('c1', 'order_status', 'intent', 4000));
    publish(intent('c1', 'repeat_contact', 'escalation', 9000, 'classifier'));
    // Two runs of key presses (a gap of more than 5 s between them), the second under a secure pause (digits masked).
    for (const atMs of [20_000, 20_400, 20_800]) publish({ type: 'dtmf', callId: 'c1', leg: 'customer', digit: '1', atMs, durationMs: 100 });
    for (const atMs of [40_000, 40_300]) publish({ type: 'dtmf', callId: 'c1', leg: 'customer', digit: null, atMs, durationMs: 100 });
    publish({ type: 'transcript.gap', callId: 'c1', leg: 'customer', startMs: 39_000, endMs: 50_000, reason: 'secure-pause' });
    publish({ type: 'transcript.gap', callId: 'c1', leg: 'agent', startMs: 60_000, endMs: 61_000, reason: 'asr-worker-restart' });
    publish({ type: 'call.summary', callId: 'c1', summary: summary('c1') });

    assert.equal(records.length, 1);
    const [record] = records;
    assert.ok(record);
    assert.equal(record.primaryReason, 'order_status');
    assert.deepEqual(record.reasons, ['order_status']);
    assert.equal(record.avoidable, true);
    assert.equal(record.selfServiceChannel, 'track-and-trace page');
    assert.equal(record.churnRisk, false);
    assert.equal(record.repeatContact, true);
    assert.equal(record.startedAt, Date.parse('2026-12-01T10:00:00.000Z'));
    assert.deepEqual(
      record.intents.map((i) => [i.intent, i.kind, i.leg, i.atMs, i.source, i.evidence, i.text]),
      [
        ['order_status', 'intent', 'customer', 4000, 'transcript', 'exact', 'order_status words'],
        ['repeat_contact', 'escalation', 'customer', 9000, 'transcript', 'classifier', 'repeat_contact words'],
      ],
    );
    assert.deepEqual(record.spans, [
      { kind: 'dtmf', leg: 'customer', startMs: 20_000, endMs: 20_900, presses: 3 },
      { kind: 'secure-pause', leg: 'customer', startMs: 39_000, endMs: 50_000, presses: 0 },
      { kind: 'dtmf', leg: 'customer', startMs: 40_000, endMs: 40_400, presses: 2 },
    ], 'no span for audio the recogniser lost; no digits anywhere');
    assert.ok(!JSON.stringify(record).includes('"digit"'));
    assert.deepEqual(record.transcript?.map((t) => [t.leg, t.text]), [['agent', 'how can i help'], ['customer', 'where is my order [card]']], 'finals only, in time order');
  });

  test('retention off: no transcript, not even in memory; a call without a reason has none and no marks; churn risk from the grammar', () => {
    const { publish, records } = setup(false);
    publish({ type: 'call.started', callId: 'c2', agentId: 'a', queue: 'q', language: 'en-US', transcriptsOnly: true, legs: [] });
    publish({ type: 'transcript', callId: 'c2', leg: 'customer', final: true, utteranceId: 0, text: 'hello', startMs: 0, endMs: 1000 });
    publish({ type: 'call.summary', callId: 'c2', summary: summary('c2', { primaryContactReason: 'unknown', intents: [] }) });
    publish({ type: 'call.started', callId: 'c3', agentId: 'a', queue: 'q', language: 'nl-NL', transcriptsOnly: true, legs: [] });
    publish(intent('c3', 'churn', 'intent', 1000));
    publish({ type: 'call.summary', callId: 'c3', summary: summary('c3', { primaryContactReason: 'churn', intents: [{ intent: 'churn', kind: 'intent', leg: 'customer', count: 1, firstAtMs: 1000 }] }) });
    const [none, churn] = records;
    assert.equal(none?.transcript, null);
    assert.equal(none?.primaryReason, null);
    assert.deepEqual([none?.avoidable, none?.churnRisk, none?.repeatContact, none?.selfServiceChannel], [false, false, false, null]);
    assert.deepEqual([churn?.primaryReason, churn?.churnRisk, churn?.avoidable, churn?.transcript], ['churn', true, false, null]);
  });

  test('bounded per call: intents past the bound are left out; a failing sink never reaches the publisher', () => {
    const hub = new EventHub(new GatewayMetrics({ defaultMetrics: false }));
    const assembler = new CallRecordAssembler({
      hub,
      sink: () => {
        throw new Error('sink broke');
      },
      marks: () => undefined,
      retainTranscripts: true,
      logger: createLogger('silent'),
    });
    hub.publish({ type: 'call.started', callId: 'c4', agentId: 'a', queue: 'q', language: 'en-US', transcriptsOnly: true, legs: [] });
    for (let i = 0; i < MAX_INTENTS_PER_CALL + 50; i++) hub.publish(intent('c4', 'order_status', 'intent', i));
    assert.doesNotThrow(() => hub.publish({ type: 'call.summary', callId: 'c4', summary: summary('c4') }));
    assembler.close();

    const { publish, records } = setup(false);
    publish({ type: 'call.started', callId: 'c5', agentId: 'a', queue: 'q', language: 'en-US', transcriptsOnly: true, legs: [] });
    for (let i = 0; i < MAX_INTENTS_PER_CALL + 50; i++) publish(intent('c5', 'order_status', 'intent', i));
    publish({ type: 'call.summary', callId: 'c5', summary: summary('c5') });
    assert.equal(records[0]?.intents.length, MAX_INTENTS_PER_CALL);
  });
});
