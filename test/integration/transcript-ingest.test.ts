/**
 * Analytics without audio: a platform that transcribes itself pushes
 * transcripts over gRPC PushTranscript or the /v1/transcripts WebSocket and
 * gets intents, prompts, escalation, alerts and the post-call record.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import type { CallSummary } from '../../src/events.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { completeLines } from '../helpers/logLines.js';

let gw: TestGateway;
let events: EventRecorder;
let scratch: string;
let recordsFile: string;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-push-'));
  recordsFile = path.join(scratch, 'records.jsonl');
  gw = await startTestGateway({ rtpPortMin: 42300, rtpPortMax: 42309, asrWorkers: 1, callRecordsFile: recordsFile, rtpTimeoutMs: 5000 });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
  await rm(scratch, { recursive: true, force: true });
});

const push = (callId: string, role: 'LEG_ROLE_CUSTOMER' | 'LEG_ROLE_AGENT', utteranceId: number, text: string, startMs: number, final = true) =>
  new Promise<void>((resolve, reject) =>
    gw.control.raw.PushTranscript({ call_id: callId, role, text, final, utterance_id: utteranceId, start_ms: startMs, end_ms: startMs + 2000 }, (err) => (err ? reject(err) : resolve())),
  );

async function refusal(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  assert.fail('expected a refusal');
}

describe('transcript ingest', () => {
  test('gRPC: a transcripts-only call gets intents with entities, a prompt, escalation, an alert and a durable record', async () => {
    const reply = await gw.control.startCall({
      call_id: 'push-1',
      agent_id: 'agent-5',
      queue: 'orders',
      language: 'en-US',
      transcripts_only: true,
      legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }],
    });
    assert.deepEqual(reply.legs, [], 'no RTP ports for a transcripts-only call');

    await push('push-1', 'LEG_ROLE_AGENT', 0, 'thank you for calling how can i help', 0);
    await push('push-1', 'LEG_ROLE_CUSTOMER', 1, 'i want to cancel my order', 3000, false);
    await push('push-1', 'LEG_ROLE_CUSTOMER', 1, 'i want to cancel my order number four five six seven', 3000);
    await push('push-1', 'LEG_ROLE_CUSTOMER', 2, 'my card number is four one one one one one one one one one one one one one one one', 6000);
    await push('push-1', 'LEG_ROLE_CUSTOMER', 3, 'this is ridiculous i will contact my lawyer', 9000);

    const intent = await events.waitFor((e) => e.event.callId === 'push-1' && e.event.type === 'intent' && e.event.intent === 'cancel_order', 2000);
    assert.equal(intent.event.type === 'intent' && intent.event.partial, true, 'fires on the partial');
    const prompt = await events.waitFor((e) => e.event.callId === 'push-1' && e.event.type === 'prompt', 2000);
    assert.equal(prompt.event.type === 'prompt' && prompt.event.agentId, 'agent-5');

    const mine = events.forCall('push-1');
    assert.equal(mine.filter((e) => e.type === 'intent' && e.intent === 'cancel_order').length, 1, 'once per utterance');
    const card = mine.find((e) => e.type === 'transcript' && e.utteranceId === 2);
    assert.ok(card && card.type === 'transcript' && card.text.includes('[card]') && !/one one one/.test(card.text), `redacted: ${JSON.stringify(card)}`);
    assert.ok(mine.some((e) => e.type === 'intent' && e.intent === 'legal_threat' && e.kind === 'escalation'));
    assert.ok(mine.some((e) => e.type === 'escalation' && e.rising), 'escalation rose');
    assert.ok(mine.some((e) => e.type === 'alert' && e.severity === 'critical'), 'critical alert for a legal threat');
    assert.ok(mine.some((e) => e.type === 'sentiment' && e.leg === 'customer'));
    assert.equal(await metricValue(gw.metrics, 'sgw_redactions_total', { type: 'card' }), 1);

    await gw.control.endCall('push-1');
    const summaryEvent = await events.waitFor((e) => e.event.callId === 'push-1' && e.event.type === 'call.summary', 2000);
    assert.equal(summaryEvent.event.type, 'call.summary');
    if (summaryEvent.event.type !== 'call.summary') return;
    const summary = summaryEvent.event.summary;
    assert.equal(summary.primaryContactReason, 'cancel_order');
    assert.notEqual(summary.escalation.peakLevel, 'calm');
    assert.ok(summary.escalation.reasons.length > 0);
    assert.deepEqual(summary.intents.map((i) => i.intent).sort(), ['cancel_order', 'frustration', 'legal_threat'], '"this is ridiculous" is frustration, an escalation cue, not a contact reason');
    assert.equal(summary.utterances.customer, 3);
  });

  test('the record is on disk once the gateway has closed (clean shutdown loses nothing)', async () => {
    await gw.control.startCall({ call_id: 'push-2', agent_id: 'a', queue: 'q', language: 'nl-NL', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    await push('push-2', 'LEG_ROLE_CUSTOMER', 0, 'waar blijft mijn bestelling', 1000);
    await events.waitFor((e) => e.event.callId === 'push-2' && e.event.type === 'intent', 2000);
    // Not ended by request: the shutdown ends it and must still write its record.
    const lines = async () => completeLines(await readFile(recordsFile, 'utf8').catch(() => '')).map((l) => JSON.parse(l) as CallSummary);
    assert.ok((await lines()).some((r) => r.callId === 'push-1'));
    const second = await startTestGateway({ rtpPortMin: 42310, rtpPortMax: 42319, asrWorkers: 1, callRecordsFile: path.join(scratch, 'second.jsonl') });
    await second.control.startCall({ call_id: 'at-shutdown', agent_id: 'a', queue: 'q', language: 'nl-NL', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    await new Promise<void>((resolve, reject) =>
      second.control.raw.PushTranscript({ call_id: 'at-shutdown', role: 'LEG_ROLE_CUSTOMER', text: 'ik wil mijn abonnement opzeggen', final: true, utterance_id: 0, start_ms: 0, end_ms: 1500 }, (err) => (err ? reject(err) : resolve())),
    );
    await second.close();
    const records = (await readFile(path.join(scratch, 'second.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as CallSummary);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.endReason, 'shutdown');
    assert.equal(records[0]?.primaryContactReason, 'churn', 'a subscription cancelled is churn, not an order cancellation');
    await gw.control.endCall('push-2');
  });

  test('gRPC refusals: unknown call, call with media, bad fields named', async () => {
    assert.equal((await refusal(push('nope', 'LEG_ROLE_CUSTOMER', 0, 'hi', 0))).code, status.NOT_FOUND);
    await gw.control.startCall({ call_id: 'media', agent_id: 'a', queue: 'q', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] });
    assert.equal((await refusal(push('media', 'LEG_ROLE_CUSTOMER', 0, 'hi', 0))).code, status.FAILED_PRECONDITION);
    await gw.control.endCall('media');
    await gw.control.startCall({ call_id: 'fields', agent_id: 'a', queue: 'q', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    const tooLong = await refusal(push('fields', 'LEG_ROLE_CUSTOMER', 0, 'x'.repeat(5000), 0));
    assert.equal(tooLong.code, status.INVALID_ARGUMENT);
    assert.match(tooLong.details, /^text: 5000 characters exceed the limit of 4096/);
    const agentLeg = await refusal(push('fields', 'LEG_ROLE_AGENT', 0, 'hi', 0));
    assert.equal(agentLeg.code, status.INVALID_ARGUMENT);
    const backwards = await refusal(
      new Promise<void>((resolve, reject) =>
        gw.control.raw.PushTranscript({ call_id: 'fields', role: 'LEG_ROLE_CUSTOMER', text: 'hi', final: true, utterance_id: 0, start_ms: 500, end_ms: 100 }, (err) => (err ? reject(err) : resolve())),
      ),
    );
    assert.match(backwards.details, /^end_ms: /);
    await gw.control.endCall('fields');
  });

  test('WebSocket: start, transcripts and end; refused messages get an error reply, non-JSON closes with 1007', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.addresses.http.port}/v1/transcripts`);
    await once(ws, 'open');
    const replies: Record<string, unknown>[] = [];
    ws.on('message', (data: Buffer) => replies.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    const until = async (n: number) => {
      for (let i = 0; i < 200 && replies.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(replies.length >= n, `expected ${n} replies, got ${JSON.stringify(replies)}`);
    };
    ws.send(JSON.stringify({ type: 'call.start', callId: 'ws-1', agentId: 'agent-8', queue: 'delivery', language: 'en-US', legs: ['customer', 'agent'], ref: 'r1' }));
    await until(1);
    assert.deepEqual(replies[0], { type: 'call.started', callId: 'ws-1', ref: 'r1' });
    ws.send(JSON.stringify({ type: 'transcript', callId: 'ws-1', leg: 'customer', text: 'where is my package', final: true, utteranceId: 0, startMs: 0, endMs: 1500 }));
    ws.send(JSON.stringify({ type: 'transcript', callId: 'ws-1', leg: 'robot', text: 'x', final: true, utteranceId: 0, startMs: 0, endMs: 1, ref: 'bad' }));
    await until(2);
    assert.equal(replies[1]?.['type'], 'error');
    assert.equal(replies[1]?.['code'], 'SGW_INVALID_ARGUMENT');
    assert.match(String(replies[1]?.['message']), /^leg: /);
    assert.equal(replies[1]?.['ref'], 'bad');
    await events.waitFor((e) => e.event.callId === 'ws-1' && e.event.type === 'intent' && e.event.intent === 'order_status', 2000);
    ws.send(JSON.stringify({ type: 'call.end', callId: 'ws-1' }));
    await until(3);
    assert.deepEqual(replies[2], { type: 'call.ended', callId: 'ws-1' });
    await events.waitFor((e) => e.event.callId === 'ws-1' && e.event.type === 'call.summary', 2000);

    ws.send('this is not json');
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 1007);
    assert.equal(await metricValue(gw.metrics, 'sgw_transcripts_pushed_total', { channel: 'websocket', outcome: 'malformed' }), 1);

    const big = new WebSocket(`ws://127.0.0.1:${gw.addresses.http.port}/v1/transcripts`);
    await once(big, 'open');
    big.send('x'.repeat(70 * 1024));
    const [bigCode] = (await once(big, 'close')) as [number];
    assert.equal(bigCode, 1009, 'oversize message: 1009');
  });
});
