/**
 * Audio forks on /v1/fork, each platform's fork replayed by a client built
 * from its documentation (test/helpers/clients/audioFork.ts) from the
 * fixture WAVs (test/fixtures/forks): mod_audio_fork (stereo 16 kHz, Basic
 * auth, subprotocol), mod_audio_stream (stereo 8 kHz, token in the path),
 * jambonz `listen` (stereo 8 kHz, chosen by subprotocol, DTMF) and Asterisk
 * chan_websocket (mono slin16, chosen by its first frame, v() query). Each
 * gets cancel_order on the customer leg, the metadata's agent and queue on
 * call.started, and call.ended when the socket closes; secrets and bad
 * input behave as docs/integrations/audio-forks.md says.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { asteriskMediaStart, fixture, ForkClient, jambonzListenMetadata } from '../helpers/clients/audioFork.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TOKEN = 'fork-secret-0123456789abcdef';

describe('audio forks over WebSocket', () => {
  let gw: TestGateway;
  let events: EventRecorder;
  let port: number;

  before(async () => {
    gw = await startTestGateway({ rtpPortMin: 42680, rtpPortMax: 42689, rtpTimeoutMs: 10_000, forkTokens: [TOKEN] });
    port = gw.addresses.http.port;
    events = await EventRecorder.connect(port);
  });
  after(async () => {
    events.close();
    await gw.close();
  });

  /** The call's started event, then cancel_order on the customer leg while the fixture streams, then call.ended after the socket closes. */
  async function replay(client: ForkClient, callId: string, wav: Parameters<ForkClient['stream']>[0], expect: { agentId: string; queue: string; agentLeg: boolean }): Promise<void> {
    const started = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.started', 5000, `call.started of ${callId}`);
    assert.ok(started.event.type === 'call.started');
    assert.equal(started.event.agentId, expect.agentId);
    assert.equal(started.event.queue, expect.queue);
    const intent = events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent' && e.event.intent === 'cancel_order', 40_000, `cancel_order on ${callId}`);
    await client.stream(wav);
    const received = await intent;
    assert.equal(received.event.type === 'intent' && received.event.leg, 'customer');
    const closed = await client.hangUp();
    assert.equal(closed.code, 1000);
    const ended = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 10_000, `call.ended of ${callId}`);
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'stream-closed');
    const agentTranscripts = events.forCall(callId).some((e) => e.type === 'transcript' && e.leg === 'agent');
    assert.equal(agentTranscripts, expect.agentLeg, expect.agentLeg ? 'channel 1 is the agent leg' : 'a mono fork has no agent leg');
  }

  test('FreeSWITCH mod_audio_fork: stereo 16 kHz, Basic auth, subprotocol audio.drachtio.org; caller (channel 0) is the customer', async () => {
    const uuid = randomUUID();
    // uuid_audio_fork <uuid> start wss://gw/v1/fork/audio-fork?mix=stereo&rate=16k stereo 16k <metadata>
    const client = await ForkClient.connect(port, { path: '/v1/fork/audio-fork?mix=stereo&rate=16k', subprotocol: 'audio.drachtio.org', basic: { user: 'freeswitch', password: TOKEN } });
    assert.equal(client.protocol, 'audio.drachtio.org', 'the subprotocol is accepted (libwebsockets requires it)');
    client.text(JSON.stringify({ callid: uuid, from: '+15550100', to: '7001', agentId: 'agent-fs', queue: 'orders', language: 'en-US' }));
    await replay(client, uuid, await fixture('call-16k-stereo'), { agentId: 'agent-fs', queue: 'orders', agentLeg: true });
  });

  test('FreeSWITCH mod_audio_stream: stereo 8 kHz, token in the path, per-message deflate offered, 100 ms chunks', async () => {
    const uuid = randomUUID();
    const client = await ForkClient.connect(port, { path: `/v1/fork/audio-stream/${TOKEN}?mix=stereo&rate=8k&agentId=agent-st&queue=billing`, perMessageDeflate: true });
    client.text(JSON.stringify({ uuid, caller: '+15550101' }));
    const wav = await fixture('call-8k-stereo');
    const started = events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.started', 5000, 'call.started');
    await started;
    const intent = events.waitFor((e) => e.event.callId === uuid && e.event.type === 'intent' && e.event.intent === 'cancel_order', 40_000, 'cancel_order');
    await client.stream(wav, { frameMs: 100 });
    const received = await intent;
    assert.equal(received.event.type === 'intent' && received.event.leg, 'customer');
    await client.hangUp();
    const ended = await events.waitFor((e) => e.event.callId === uuid && e.event.type === 'call.ended', 10_000, 'call.ended');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'stream-closed');
    const snapshot = events.forCall(uuid).find((e) => e.type === 'call.started');
    assert.equal(snapshot?.type === 'call.started' && snapshot.queue, 'billing', 'agent and queue from the URL query');
  });

  test('jambonz listen: chosen by the subprotocol, wsAuth Basic, call attributes and metadata mapped, DTMF passed', async () => {
    const callSid = randomUUID();
    const client = await ForkClient.connect(port, { path: '/v1/fork', subprotocol: 'audio.jambonz.org', basic: { user: 'jambonz', password: TOKEN } });
    assert.equal(client.protocol, 'audio.jambonz.org');
    client.text(jambonzListenMetadata({ callSid, from: '+15550102', to: '+15550199', direction: 'inbound', sampleRate: 8000, mixType: 'stereo', metadata: { agentId: 'agent-jz', queue: 'delivery' } }));
    const wav = await fixture('call-8k-stereo');
    const dtmf = events.waitFor((e) => e.event.callId === callSid && e.event.type === 'dtmf', 10_000, 'dtmf');
    await events.waitFor((e) => e.event.callId === callSid && e.event.type === 'call.started', 5000, 'call.started');
    client.text(JSON.stringify({ event: 'dtmf', dtmf: '5', duration: 1600 }));
    const digit = await dtmf;
    assert.equal(digit.event.type === 'dtmf' && digit.event.digit, '5');
    assert.equal(digit.event.type === 'dtmf' && digit.event.leg, 'customer', 'passDtmf digits are the caller’s');
    await replay(client, callSid, wav, { agentId: 'agent-jz', queue: 'delivery', agentLeg: true });
  });

  test('Asterisk chan_websocket: chosen by MEDIA_START, mono slin16, v() parameters in the query, ?token=', async () => {
    const uniqueId = `1765100000.${Math.floor(Math.random() * 1000)}`;
    // Dial(WebSocket/gateway/c(slin16)v(token=…,callId=${UNIQUEID},agentId=…,queue=…))
    const client = await ForkClient.connect(port, { path: `/v1/fork?token=${TOKEN}&callId=${uniqueId}&agentId=agent-ast&queue=orders` });
    client.text(asteriskMediaStart('gateway', 'slin16'));
    await replay(client, uniqueId, await fixture('customer-16k-mono'), { agentId: 'agent-ast', queue: 'orders', agentLeg: false });
  });

  test('a missing or wrong secret is refused with 401 before the upgrade and counted', async () => {
    const missing = await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'missing' });
    const invalid = await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'invalid' });
    await assert.rejects(ForkClient.connect(port, { path: '/v1/fork/jambonz' }), /HTTP 401/);
    await assert.rejects(ForkClient.connect(port, { path: '/v1/fork/audio-fork', basic: { user: 'x', password: 'wrong' } }), /HTTP 401/);
    await assert.rejects(ForkClient.connect(port, { path: '/v1/fork/wrong-token' }), /HTTP 401/);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'missing' }), missing + 1);
    assert.equal(await metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason: 'invalid' }), invalid + 2);
    // mod_audio_stream's STREAM_EXTRA_HEADERS can carry a Bearer token or an API key.
    for (const headers of [{ Authorization: `Bearer ${TOKEN}` }, { 'X-API-KEY': TOKEN }] as Record<string, string>[]) {
      const client = await ForkClient.connect(port, { path: '/v1/fork/audio-stream', headers });
      await client.hangUp();
    }
  });

  test('bad input closes with the documented code and reason, is counted, and the gateway goes on', async () => {
    const cases: { what: string; path: string; subprotocol?: string; send: (c: ForkClient) => void; code: number; reason: string }[] = [
      { what: 'jambonz metadata that is not JSON', path: '/v1/fork/jambonz', send: (c) => c.text('callSid=1'), code: 1007, reason: 'malformed-json' },
      { what: 'jambonz without sampleRate', path: '/v1/fork/jambonz', send: (c) => c.text('{"callSid":"x"}'), code: 1008, reason: 'bad-field' },
      { what: 'jambonz at 24 kHz', path: '/v1/fork/jambonz', send: (c) => c.text(jambonzListenMetadata({ callSid: 'a', from: '1', to: '2', direction: 'inbound', sampleRate: 24000, mixType: 'mono' })), code: 1008, reason: 'unsupported-media' },
      { what: 'a mixed fork', path: '/v1/fork/audio-fork?mix=mixed', send: (c) => c.text('{}'), code: 1008, reason: 'unsupported-media' },
      { what: 'Asterisk in ulaw', path: '/v1/fork/asterisk', send: (c) => c.text(asteriskMediaStart('c1', 'ulaw')), code: 1008, reason: 'unsupported-media' },
      { what: 'Asterisk audio before MEDIA_START', path: '/v1/fork/asterisk', send: (c) => c.binary(Buffer.alloc(640)), code: 1008, reason: 'wrong-order' },
      { what: 'a stereo frame of odd length', path: '/v1/fork/audio-fork?mix=stereo', send: (c) => (c.text('{"callid":"odd-frame-1"}'), c.binary(Buffer.alloc(642))), code: 1007, reason: 'bad-audio' },
      { what: 'a call id that is not one', path: '/v1/fork/audio-fork', send: (c) => c.text('{"callId":"a b"}'), code: 1008, reason: 'bad-field' },
      { what: 'an unserved language', path: '/v1/fork/audio-fork', send: (c) => c.text('{"language":"fr-FR"}'), code: 1008, reason: 'call-refused' },
      { what: 'a text frame over 16 KiB', path: '/v1/fork/audio-fork', send: (c) => c.text(`{"x":"${'a'.repeat(17_000)}"}`), code: 1008, reason: 'text-too-big' },
      { what: 'a frame over 64 KiB', path: '/v1/fork/audio-fork', send: (c) => c.binary(Buffer.alloc(70_000)), code: 1009, reason: 'frame-too-big' },
    ];
    for (const c of cases) {
      const before = await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'audio-fork', reason: c.reason });
      const client = await ForkClient.connect(port, { path: `${c.path}${c.path.includes('?') ? '&' : '?'}token=${TOKEN}` });
      c.send(client);
      const closed = await client.closed;
      assert.equal(closed.code, c.code, `${c.what}: close code`);
      assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'audio-fork', reason: c.reason }), before + 1, `${c.what}: counted as ${c.reason}`);
    }
    // Audio accepted before the bad frame stayed with the call, which ended.
    const ended = await events.waitFor((e) => e.event.callId === 'odd-frame-1' && e.event.type === 'call.ended', 10_000, 'call.ended of odd-frame-1');
    assert.equal(ended.event.type, 'call.ended');
    // mod_audio_stream without metadata: audio first is a call of its own (call id generated), format from the URL.
    const quiet = await ForkClient.connect(port, { path: `/v1/fork/audio-stream/${TOKEN}?rate=16k` });
    quiet.binary(Buffer.alloc(640));
    const started = await events.waitFor((e) => e.event.type === 'call.started' && e.event.callId.startsWith('fork-'), 5000, 'call.started of a fork without metadata');
    assert.ok(started.event.type === 'call.started' && started.event.legs.length === 1);
    await quiet.hangUp();
  });

  // Last: the gateway stays draining.
  test('while the gateway drains a new fork is closed with 1013 SGW_DRAINING and counted; a running one goes on', async () => {
    const running = await ForkClient.connect(port, { path: `/v1/fork/audio-fork/${TOKEN}` });
    running.text(JSON.stringify({ callid: 'fork-before-drain' }));
    await events.waitFor((e) => e.event.callId === 'fork-before-drain' && e.event.type === 'call.started', 5000, 'call.started before the drain');
    const refusals = await metricValue(gw.metrics, 'sgw_drain_refusals_total', { protocol: 'audio-fork' });
    gw.gateway.drain('admin', 'test');
    const refused = await ForkClient.connect(port, { path: `/v1/fork/jambonz/${TOKEN}`, subprotocol: 'audio.jambonz.org' });
    const closed = await refused.closed;
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, /^SGW_DRAINING: /);
    assert.equal(await metricValue(gw.metrics, 'sgw_drain_refusals_total', { protocol: 'audio-fork' }), refusals + 1);
    running.binary(Buffer.alloc(320));
    assert.equal(running.ws.readyState, running.ws.OPEN, 'the running fork is not cut');
    await running.hangUp();
    const ended = await events.waitFor((e) => e.event.callId === 'fork-before-drain' && e.event.type === 'call.ended', 10_000, 'call.ended of the running fork');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'stream-closed');
  });
});
