/**
 * Asterisk AudioSocket ingest on a real TCP listener, driven by a client
 * written from the protocol definition (test/helpers/clients/audiosocket.ts):
 * a flite two-leg call replayed as two paired connections in real time
 * (slin 8 kHz, 20 ms frames), DTMF and hangup frames, and bad input.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { renderCall, type Turn } from '../../src/demo/speech.js';
import { KIND_ERROR, KIND_SLIN_8K, KIND_UUID, encodeFrame, uuidToBytes } from '../../src/ingest/audiosocket/frames.js';
import { compareEventIds } from '../../src/push/EventCursor.js';
import { AudioSocketClient } from '../helpers/clients/audiosocket.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let events: EventRecorder;
let port: number;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 46100, rtpPortMax: 46119, rtpTimeoutMs: 10_000, audioSocketPort: 0, audioSocketLegs: 'paired', audioSocketQueue: 'pbx-queue', audioSocketAgentId: 'agent-as' });
  port = gw.addresses.audioSocketPort ?? assert.fail('AudioSocket listener not started');
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
});

const errors = (reason: string): Promise<number> => metricValue(gw.metrics, 'sgw_audiosocket_errors_total', { reason });

/** A UUID whose last digit is replaced (paired mode: 0 customer, 1 agent). */
function uuidEndingIn(digit: string): string {
  return `${randomUUID().slice(0, 35)}${digit}`;
}

async function closedWithin(client: AudioSocketClient, ms: number, what: string): Promise<void> {
  await Promise.race([client.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: connection still open after ${ms} ms`)), ms).unref())]);
}

describe('AudioSocket: a two-leg call from the spec-built client', () => {
  test('paired connections give intents and transcripts on the right legs, DTMF, and hangup ends the call', async () => {
    const script: Turn[] = [
      { speaker: 'agent', text: 'Thank you for calling, how can I help you today?' },
      { speaker: 'customer', text: 'Hello, I would like to cancel my order please.' },
      { speaker: 'agent', text: 'Of course, let me check whether it has shipped.' },
    ];
    const call = await renderCall(script, { rate: 8000, voices: { customer: 'slt', agent: 'rms' } });
    const base = randomUUID().slice(0, 35);
    const callId = base;
    const customer = await AudioSocketClient.connect(port);
    const agent = await AudioSocketClient.connect(port);
    await customer.sendUuid(`${base}0`);
    await agent.sendUuid(`${base}1`);

    const intent = events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent' && e.event.intent === 'cancel_order', 60_000, 'cancel_order intent');
    const dtmfAt = (call.turns[2]?.startMs ?? 8000) + 300;
    await Promise.all([
      customer.streamAudio(call.legs.customer, 8000, { at: [{ ms: dtmfAt, send: () => customer.sendDtmf('5') }] }),
      agent.streamAudio(call.legs.agent, 8000),
    ]);
    const got = await intent;
    assert.equal(got.event.type === 'intent' && got.event.leg, 'customer');

    const started = events.events.find((e) => e.event.callId === callId && e.event.type === 'call.started')?.event;
    assert.ok(started?.type === 'call.started');
    assert.deepEqual(started.legs.map((l) => [l.role, l.clockRate]), [['customer', 8000], ['agent', 8000]]);
    assert.equal(started.queue, 'pbx-queue');
    assert.equal(started.agentId, 'agent-as');

    const dtmf = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'dtmf', 5000, 'dtmf event');
    assert.ok(dtmf.event.type === 'dtmf');
    assert.equal(dtmf.event.leg, 'customer');
    assert.equal(dtmf.event.digit, '5');

    const agentText = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'transcript' && e.event.leg === 'agent' && e.event.final && e.event.text.length > 0, 20_000, 'agent transcript');
    assert.ok(agentText);
    assert.ok(!events.forCall(callId).some((e) => e.type === 'intent' && e.leg === 'agent' && e.intent === 'cancel_order'), 'the customer intent is not put on the agent leg');

    await customer.sendHangup();
    const ended = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 10_000, 'call.ended');
    assert.ok(ended.event.type === 'call.ended');
    assert.equal(ended.event.reason, 'stream-closed');
    await closedWithin(customer, 5000, 'customer after hangup');
    // The call is over: the agent's connection is released too.
    await closedWithin(agent, 5000, 'agent after the call ended');
    assert.ok((await metricValue(gw.metrics, 'sgw_audiosocket_frames_total', { kind: 'audio' })) > 500);
    assert.equal(await metricValue(gw.metrics, 'sgw_audiosocket_frames_total', { kind: 'dtmf' }), 1);
  });
});

describe('AudioSocket: bad input gets the connection closed and counted', () => {
  test('a declared length over the limit closes the connection before its payload arrives', async () => {
    const before = await errors('oversize');
    const client = await AudioSocketClient.connect(port);
    await client.sendUuid(uuidEndingIn('a'));
    // Header only: the server must not wait for 60000 bytes.
    await client.send(Buffer.from([KIND_SLIN_8K, 0xea, 0x60]));
    await closedWithin(client, 3000, 'oversize');
    assert.equal(await errors('oversize'), before + 1);
  });

  test('garbage instead of the UUID frame closes the connection', async () => {
    const before = await errors('bad_first_frame');
    const client = await AudioSocketClient.connect(port);
    await client.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closedWithin(client, 3000, 'garbage first frame');
    assert.equal(await errors('bad_first_frame'), before + 1);
  });

  test('a UUID frame of the wrong size closes the connection', async () => {
    const before = await errors('bad_uuid');
    const client = await AudioSocketClient.connect(port);
    await client.send(encodeFrame(KIND_UUID, Buffer.from('not-a-uuid')));
    await closedWithin(client, 3000, 'bad uuid');
    assert.equal(await errors('bad_uuid'), before + 1);
  });

  test('a torn sample and an unsupported rate close the connection; the call ends with what it had', async () => {
    const uuid = uuidEndingIn('b');
    const client = await AudioSocketClient.connect(port);
    await client.sendUuid(uuid);
    await client.send(encodeFrame(KIND_SLIN_8K, new Uint8Array(320)));
    await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.started', 5000, 'call.started');
    const before = await errors('odd_audio');
    await client.send(encodeFrame(KIND_SLIN_8K, new Uint8Array(321)));
    await closedWithin(client, 3000, 'odd audio');
    assert.equal(await errors('odd_audio'), before + 1);
    const ended = await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.ended', 5000, 'call.ended');
    assert.ok(ended.event.type === 'call.ended' && ended.event.reason === 'stream-closed');

    const rateBefore = await errors('unsupported_rate');
    const other = await AudioSocketClient.connect(port);
    await other.sendUuid(uuidEndingIn('c'));
    await other.send(encodeFrame(0x11, new Uint8Array(480)));
    await closedWithin(other, 3000, 'unsupported rate');
    assert.equal(await errors('unsupported_rate'), rateBefore + 1);
  });

  test('unknown kinds and bad DTMF are skipped, the stream goes on; error 0x01 (hung up) ends it', async () => {
    const uuid = uuidEndingIn('d');
    const client = await AudioSocketClient.connect(port);
    await client.sendUuid(uuid);
    await client.send(encodeFrame(KIND_SLIN_8K, new Uint8Array(320)));
    await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.started', 5000, 'call.started');
    const unknown = await errors('unknown_kind');
    const badDtmf = await errors('bad_dtmf');
    await client.send(Buffer.concat([encodeFrame(0x02, new Uint8Array(6)), encodeFrame(0x03, Buffer.from('x')), encodeFrame(KIND_SLIN_8K, new Uint8Array(320))]));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(client.isOpen);
    assert.equal(await errors('unknown_kind'), unknown + 1);
    assert.equal(await errors('bad_dtmf'), badDtmf + 1);
    await client.send(encodeFrame(KIND_ERROR, Buffer.from([0x01])));
    await closedWithin(client, 3000, 'error frame');
    const ended = await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.ended', 5000, 'call.ended');
    assert.ok(ended.event.type === 'call.ended' && ended.event.reason === 'stream-closed');
  });

  test('a hangup before any audio starts no call; EndCall releases a streaming connection', async () => {
    const quiet = uuidEndingIn('e');
    const client = await AudioSocketClient.connect(port);
    await client.sendUuid(quiet);
    await client.sendHangup();
    await closedWithin(client, 3000, 'hangup');
    assert.ok(!events.events.some((e) => e.event.callId === quiet));

    const uuid = uuidEndingIn('f');
    const streaming = await AudioSocketClient.connect(port);
    await streaming.sendUuid(uuid);
    await streaming.send(encodeFrame(KIND_SLIN_8K, new Uint8Array(320)));
    await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.started', 5000, 'call.started');
    await gw.control.endCall(uuid);
    await closedWithin(streaming, 3000, 'after EndCall');
    // The same UUID may stream again once its call is over.
    const again = await AudioSocketClient.connect(port);
    await again.send(Buffer.concat([encodeFrame(KIND_UUID, uuidToBytes(uuid)), encodeFrame(KIND_SLIN_8K, new Uint8Array(320))]));
    await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.started' && compareEventIds(e.event.eventId, events.events.find((x) => x.event.callId === uuid && x.event.type === 'call.ended')?.event.eventId ?? '0-0') > 0, 5000, 'second call.started');
    again.destroy();
    await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.ended' && e.event.reason === 'stream-closed', 5000, 'second call.ended');
  });
});
