/**
 * Twilio Media Streams on /v1/twilio, driven by a client built from Twilio's
 * WebSocket message reference (test/helpers/clients/twilio.ts): a
 * synthesized two-leg call (inbound = customer, outbound = agent) gets its
 * intent on the customer leg, dtmf becomes a dtmf event, stop ends the call;
 * tokens, signatures and bad input behave as docs/integrations/twilio.md says.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { renderCall } from '../../src/demo/speech.js';
import { TwilioStreamClient } from '../helpers/clients/twilio.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TOKEN = 'twilio-stream-secret-0123456789';
const AUTH_TOKEN = 'twilio-account-auth-token';
const PUBLIC_URL = 'wss://gateway.example.com';

describe('Twilio Media Streams', () => {
  let gw: TestGateway;
  let events: EventRecorder;
  let port: number;

  before(async () => {
    gw = await startTestGateway({ rtpPortMin: 42620, rtpPortMax: 42629, rtpTimeoutMs: 10_000, twilioStreamTokens: [TOKEN], twilioAuthToken: AUTH_TOKEN, twilioPublicUrl: PUBLIC_URL });
    port = gw.addresses.http.port;
    events = await EventRecorder.connect(port);
  });
  after(async () => {
    events.close();
    await gw.close();
  });

  test('a two-leg call gets cancel_order on the customer (inbound) leg, dtmf is published, stop ends the call', async () => {
    const call = await renderCall(
      [
        { speaker: 'agent', text: 'Thank you for calling, how can I help you today?' },
        { speaker: 'customer', text: 'Hello, I want to cancel my order.' },
        { speaker: 'agent', text: 'Of course, let me check that for you.' },
      ],
      { rate: 8000, voices: { customer: 'rms', agent: 'slt' } },
    );
    const client = await TwilioStreamClient.connect(port, { token: TOKEN });
    const callId = client.callSid;
    client.begin({ customParameters: { agentId: 'agent-9', queue: 'orders', language: 'en-US' } });
    const started = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.started', 5000, 'call.started');
    assert.equal(started.event.type === 'call.started' && started.event.queue, 'orders');
    const intent = events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent' && e.event.intent === 'cancel_order', 40_000, 'cancel_order');
    await client.stream(call.legs.customer, call.legs.agent);
    const received = await intent;
    assert.equal(received.event.type === 'intent' && received.event.leg, 'customer');

    client.dtmf('5');
    client.mark('ignored');
    const dtmf = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'dtmf', 5000, 'dtmf');
    assert.equal(dtmf.event.type === 'dtmf' && dtmf.event.digit, '5');
    assert.equal(dtmf.event.type === 'dtmf' && dtmf.event.leg, 'customer');

    const closed = await client.stop();
    assert.equal(closed.code, 1000);
    const ended = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 10_000, 'call.ended');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'stream-closed');
    assert.ok(events.forCall(callId).some((e) => e.type === 'transcript' && e.leg === 'agent'), 'the outbound track is the agent leg');
  });

  test('a missing or wrong token is refused with 401 and counted; a valid X-Twilio-Signature or ?token= is accepted', async () => {
    const invalid = await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'invalid' });
    await assert.rejects(TwilioStreamClient.connect(port, { token: 'wrong' }), /HTTP 401/);
    await assert.rejects(TwilioStreamClient.connect(port, {}), /HTTP 401/);
    await assert.rejects(TwilioStreamClient.connect(port, { headers: { 'X-Twilio-Signature': 'AAAA' } }), /HTTP 401/);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'invalid' }), invalid + 2);

    const signature = createHmac('sha1', AUTH_TOKEN).update(`${PUBLIC_URL}/v1/twilio`).digest('base64');
    const signed = await TwilioStreamClient.connect(port, { headers: { 'X-Twilio-Signature': signature } });
    signed.ws.close();
    const query = await TwilioStreamClient.connect(port, { path: `/v1/twilio?token=${TOKEN}` });
    query.ws.close();
  });

  test('bad input closes with the protocol’s code and reason, and is counted', async () => {
    const cases: { reason: string; code: number; send: (c: TwilioStreamClient) => void }[] = [
      { reason: 'malformed-json', code: 1007, send: (c) => c.ws.send('{"event":') },
      { reason: 'binary-frame', code: 1007, send: (c) => c.ws.send(Buffer.alloc(10)) },
      { reason: 'wrong-order', code: 1008, send: (c) => c.media('inbound', new Int16Array(160)) },
      { reason: 'unsupported-media', code: 1008, send: (c) => c.ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: 'MZ1', start: { callSid: 'CA1', streamSid: 'MZ1', tracks: ['inbound'], mediaFormat: { encoding: 'audio/l16', sampleRate: 16000, channels: 1 } } })) },
      { reason: 'frame-too-big', code: 1009, send: (c) => c.ws.send(JSON.stringify({ event: 'media', payload: 'A'.repeat(70_000) })) },
    ];
    for (const { reason, code, send } of cases) {
      const client = await TwilioStreamClient.connect(port, { token: TOKEN });
      if (reason === 'unsupported-media') client.ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
      send(client);
      const closed = await client.closed;
      assert.equal(closed.code, code, reason);
      if (code !== 1009) assert.ok(closed.reason.length > 0, `${reason}: a close reason`);
      assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'twilio', reason }), 1, reason);
    }
  });

  test('a language the gateway does not serve closes the stream with 1008 naming SGW_LANGUAGE_UNSUPPORTED, counted', async () => {
    const client = await TwilioStreamClient.connect(port, { token: TOKEN });
    client.begin({ customParameters: { language: 'fr-FR' } });
    const closed = await client.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /^SGW_LANGUAGE_UNSUPPORTED: language fr-FR is not served/);
    assert.equal(await metricValue(gw.metrics, 'sgw_language_refusals_total', { language: 'fr-FR' }), 1);
    assert.ok(!events.events.some((e) => e.event.callId === client.callSid), 'no call');
  });

  test('media for a track start did not list is refused after a good start, and the call ends', async () => {
    const client = await TwilioStreamClient.connect(port, { token: TOKEN });
    client.begin({ tracks: ['inbound'], customParameters: { callId: 'twilio-one-track' } });
    await events.waitFor((e) => e.event.callId === 'twilio-one-track' && e.event.type === 'call.started', 5000, 'call.started');
    client.media('inbound', new Int16Array(160));
    client.media('outbound', new Int16Array(160));
    const closed = await client.closed;
    assert.equal(closed.code, 1008);
    const ended = await events.waitFor((e) => e.event.callId === 'twilio-one-track' && e.event.type === 'call.ended', 10_000, 'call.ended');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'stream-closed');
  });
});
