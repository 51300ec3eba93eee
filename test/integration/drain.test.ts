/**
 * The drain, on real gateway processes (`node dist/src/cli.js serve`):
 *
 * - a real SIGTERM during two live gRPC StreamAudio calls: new calls are
 *   refused with UNAVAILABLE naming the drain, /readyz answers 503 while
 *   /healthz stays 200, the two calls go on being transcribed until their
 *   clients end them, both calls' full events reach a /v1/events client
 *   connected before, both records are written, and the process exits 0;
 * - the drain limit (DRAIN_TIMEOUT_MS) ends a call that would not end, with
 *   reason `shutdown` and its full final events and record; a SIGTERM during
 *   that (admin-started) drain joins it, keeping its deadline;
 * - POST /v1/admin/drain: admin only (401/403 otherwise), 202 with the
 *   drain's status, idempotent, /readyz flips; every ingest protocol refuses
 *   new calls (gRPC StartCall and StreamAudio, transcripts only, AudioHook,
 *   Twilio, AudioSocket, /v1/transcripts), counted by protocol, while the
 *   call already running goes on; when it ends the process exits 0 by itself.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { GatewayProcess, freePort, metricSum } from '../../loadtest/GatewayProcess.js';
import { encodeL16 } from '../../src/audio/codecs/index.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import type { StreamAudioRequest } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioRequest.js';
import type { StreamAudioResponse__Output } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioResponse.js';
import { AudioHookClient } from '../helpers/clients/audiohook.js';
import { AudioSocketClient } from '../helpers/clients/audiosocket.js';
import { TwilioStreamClient } from '../helpers/clients/twilio.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { EventRecorder } from '../helpers/gateway.js';
import { grpcAnswer } from '../helpers/grpc.js';
import { chunks, silence, synthesize } from '../helpers/speech.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-drain-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** GET a path of the gateway: status and JSON body. */
async function getJson(port: number, pathname: string, token?: string, method = 'GET'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${pathname}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

/** Polls /readyz until it answers `status` (the signal reaches the process asynchronously). */
async function readyzBecomes(port: number, status: number, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await getJson(port, '/readyz');
    if (answer.status === status) return answer.body;
    if (Date.now() > deadline) assert.fail(`/readyz still ${answer.status} after ${timeoutMs} ms: ${JSON.stringify(answer.body)}`);
    await sleep(50);
  }
}

interface Record_ {
  readonly callId: string;
  readonly endReason: string;
}

async function records(file: string): Promise<Record_[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record_);
}

/**
 * A live StreamAudio call of one L16 customer leg, as an adapter streams it:
 * 20 ms chunks in real time, silence unless `say()` queued speech, until
 * `hangUp()` half-closes the stream (the client ends the call).
 */
class LiveCall {
  readonly responses: StreamAudioResponse__Output[] = [];
  readonly status: Promise<grpc.StatusObject>;
  private readonly stream: grpc.ClientDuplexStream<StreamAudioRequest, StreamAudioResponse__Output>;
  private readonly queued: Int16Array[] = [];
  private streaming = true;
  private readonly pump: Promise<void>;

  constructor(
    control: CallControl,
    readonly callId: string,
    private readonly rate: number,
  ) {
    this.stream = control.streamAudio();
    this.stream.on('data', (r: StreamAudioResponse__Output) => this.responses.push(r));
    this.stream.on('error', () => undefined);
    this.status = new Promise((resolve) => this.stream.on('status', resolve));
    this.stream.write({ start: { call_id: callId, agent_id: `agent-${callId}`, queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: rate }] } });
    this.pump = this.run();
  }

  say(pcm: Int16Array): void {
    this.queued.push(...chunks(pcm, this.rate));
  }

  private async run(): Promise<void> {
    const quiet = silence(20, this.rate);
    const t0 = Date.now();
    for (let sent = 0; this.streaming; sent++) {
      this.stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.from(encodeL16(this.queued.shift() ?? quiet)) } });
      const due = t0 + (sent + 1) * 20 - Date.now();
      if (due > 0) await sleep(due);
    }
  }

  /** Stops the audio; with `end`, half-closes (the call ends with `stream-closed`). Resolves with the stream's status. */
  async hangUp(end = true): Promise<grpc.StatusObject> {
    this.streaming = false;
    await this.pump;
    if (end) this.stream.end();
    return this.status;
  }

  /** The call's events as the stream delivered them. */
  get events(): { type: string; json: string }[] {
    return this.responses.filter((r) => r.event != null).map((r) => r.event as { type: string; json: string });
  }
}

/** A StreamAudio stream's first answer: `started`, or the status it was refused with. */
async function streamAudioAnswer(control: CallControl, callId: string): Promise<string> {
  const stream = control.streamAudio();
  stream.on('error', () => undefined);
  const answer = new Promise<string>((resolve) => {
    stream.once('data', (r: StreamAudioResponse__Output) => resolve(r.started == null ? 'data' : 'started'));
    stream.once('status', (s: grpc.StatusObject) => resolve(`${grpc.status[s.code]}: ${s.details}`));
  });
  stream.write({ start: { call_id: callId, agent_id: 'a', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] } });
  const result = await answer;
  stream.cancel();
  return result;
}

describe('drain', { timeout: 180_000 }, () => {
  test('SIGTERM during two live StreamAudio calls: no new calls, /readyz 503, /healthz 200, the calls go on to their end, full events and records, exit 0', async (t) => {
    const rate = 16000;
    const phrase = await synthesize('I would like to cancel my order please', { rate });
    const recordsFile = path.join(dir, 'sigterm.jsonl');
    const logFile = path.join(dir, 'sigterm.log');
    const gateway = await GatewayProcess.start({
      // No call-record database: /readyz below has exactly the drain's check.
      env: { ASR: 'pocketsphinx', ASR_WORKERS: '1', ASR_MODE: 'transcribe', JWT_SECRET: '', CALL_RECORDS_FILE: recordsFile, DATABASE_FILE: 'off', LOG_LEVEL: 'info', DRAIN_TIMEOUT_MS: '120000' },
      rtpPortMin: 48100,
      rtpPortMax: 48109,
      logFile,
    });
    const events = await EventRecorder.connect(gateway.httpPort);
    const eventsClosed = once(events.ws, 'close') as Promise<[number]>;
    const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`);
    const calls = [new LiveCall(control, 'drain-a', rate), new LiveCall(control, 'drain-b', rate)];
    try {
      for (const call of calls) await events.waitFor((e) => e.event.callId === call.callId && e.event.type === 'call.started', 10_000, `call.started of ${call.callId}`);
      assert.deepEqual(await getJson(gateway.httpPort, '/readyz'), { status: 200, body: { ready: true, checks: { draining: { ok: true }, 'event-bus': { ok: true, connected: true, buffered: 0 } } } });

      gateway.signal('SIGTERM');
      const notReady = await readyzBecomes(gateway.httpPort, 503);
      const seenBeforeDrain = events.events.length;
      assert.equal(notReady['ready'], false);
      const check = (notReady['checks'] as Record<string, Record<string, unknown>>)['draining'];
      assert.equal(check?.['ok'], false);
      assert.match(String(check?.['reason']), /^draining \(SIGTERM\)/);
      assert.equal(check?.['activeCalls'], 2);
      assert.equal((await getJson(gateway.httpPort, '/healthz')).status, 200, '/healthz stays liveness');

      // No new call, whichever way it comes in over gRPC.
      assert.match(
        await grpcAnswer(control.startCall({ call_id: 'late-rtp', agent_id: 'a', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] })),
        /^UNAVAILABLE: gateway is draining \(SIGTERM\)/,
      );
      assert.match(
        await grpcAnswer(control.startCall({ call_id: 'late-push', agent_id: 'a', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] })),
        /^UNAVAILABLE: gateway is draining/,
      );
      assert.match(await streamAudioAnswer(control, 'late-stream'), /^UNAVAILABLE: gateway is draining/);

      // The live calls go on: speech spoken after the SIGTERM is transcribed on both.
      for (const call of calls) call.say(phrase);
      for (const call of calls) {
        await events.waitFor(
          (e) => events.events.indexOf(e) >= seenBeforeDrain && e.event.callId === call.callId && e.event.type === 'transcript' && e.event.final && e.event.text !== '',
          60_000,
          `a final transcript of ${call.callId} after the SIGTERM`,
        );
      }
      const metrics = await gateway.metricsText();
      assert.equal(metricSum(metrics, 'sgw_draining'), 1);
      assert.equal(metricSum(metrics, 'sgw_drain_refusals_total', { protocol: 'start-call' }), 2);
      assert.equal(metricSum(metrics, 'sgw_drain_refusals_total', { protocol: 'stream-audio' }), 1);

      // The first client ends its call; the gateway stays up for the second.
      const [first, second] = calls as [LiveCall, LiveCall];
      assert.equal((await first.hangUp()).code, grpc.status.OK);
      await events.waitFor((e) => e.event.callId === first.callId && e.event.type === 'call.summary', 10_000, 'the first summary');
      assert.equal((await control.getCall(second.callId)).state, 'active', 'the second call still runs');
      assert.equal((await getJson(gateway.httpPort, '/readyz')).status, 503);
      assert.equal((await second.hangUp()).code, grpc.status.OK);

      // No call left: the gateway flushes and exits 0 by itself.
      const exitCode = await gateway.exited;
      assert.equal(exitCode, 0);
      for (const call of calls) {
        const mine = events.forCall(call.callId);
        const ended = mine.find((e) => e.type === 'call.ended');
        assert.ok(ended?.type === 'call.ended', `call.ended of ${call.callId} (got ${mine.map((e) => e.type).join(', ')})`);
        assert.equal(ended.reason, 'stream-closed', 'ended by its client, not by the shutdown');
        assert.equal(mine.at(-1)?.type, 'call.summary');
        assert.equal(call.events.at(-1)?.type, 'call.summary', 'the StreamAudio client got its summary too');
      }
      const [closeCode] = await eventsClosed;
      assert.equal(closeCode, 1001, 'the event client is told the gateway is going away, after the events');
      const written = await records(recordsFile);
      assert.deepEqual(
        calls.map((c) => written.filter((r) => r.callId === c.callId).map((r) => r.endReason)),
        [['stream-closed'], ['stream-closed']],
      );
      assert.ok(!written.some((r) => r.callId.startsWith('late-')), 'no refused call left a record');
      const log = await readFile(logFile, 'utf8');
      assert.match(log, /"msg":"drain over: no call left"/);
      assert.match(log, /"msg":"gateway stopped"/);
      t.diagnostic(`SIGTERM: /readyz 503 (${String(check?.['reason'])}), 3 new calls refused UNAVAILABLE, both calls transcribed after it and ended by their clients, records ${written.length}, exit ${exitCode}`);
    } finally {
      control.close();
      events.close();
      await gateway.stop();
    }
  });

  test('the drain limit ends a call that would not end: reason shutdown, full events and record, exit 0; a SIGTERM during the drain keeps its deadline', async (t) => {
    const recordsFile = path.join(dir, 'limit.jsonl');
    const logFile = path.join(dir, 'limit.log');
    const gateway = await GatewayProcess.start({
      env: { ASR: 'none', JWT_SECRET: '', CALL_RECORDS_FILE: recordsFile, LOG_LEVEL: 'info', DRAIN_TIMEOUT_MS: '4000' },
      rtpPortMin: 48110,
      rtpPortMax: 48119,
      logFile,
    });
    const events = await EventRecorder.connect(gateway.httpPort);
    const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`);
    // Its client streams silence and never hangs up.
    const call = new LiveCall(control, 'endless', 8000);
    try {
      await events.waitFor((e) => e.event.callId === call.callId && e.event.type === 'call.started', 10_000, 'call.started');
      // Authentication is off: every request acts as the (anonymous) admin.
      const started = await getJson(gateway.httpPort, '/v1/admin/drain', undefined, 'POST');
      assert.equal(started.status, 202);
      assert.equal(started.body['limitMs'], 4000);
      assert.equal(Date.parse(String(started.body['deadline'])) - Date.parse(String(started.body['startedAt'])), 4000);
      // The orchestrator's SIGTERM comes during the drain: it joins it.
      gateway.signal('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!(await readFile(logFile, 'utf8')).includes('"msg":"signal during a drain: it goes on to its deadline"')) {
        if (Date.now() > deadline) assert.fail('the SIGTERM was not logged');
        await sleep(50);
      }
      const progress = await getJson(gateway.httpPort, '/v1/admin/drain');
      assert.equal(progress.status, 200);
      assert.equal(progress.body['state'], 'draining');
      assert.equal(progress.body['origin'], 'admin');
      assert.equal(progress.body['activeCalls'], 1);
      assert.equal(progress.body['deadline'], started.body['deadline'], 'the SIGTERM did not restart or cut the drain');
      assert.equal((await control.getCall(call.callId)).state, 'active', 'the drain does not end the call at once');

      const final = await call.status;
      const exitCode = await gateway.exited;
      await call.hangUp(false);
      assert.equal(exitCode, 0);
      assert.equal(final.code, grpc.status.OK, `the stream finishes cleanly: ${grpc.status[final.code]} ${final.details}`);
      const mine = events.forCall(call.callId);
      const ended = mine.find((e) => e.type === 'call.ended');
      assert.ok(ended?.type === 'call.ended', `call.ended (got ${mine.map((e) => e.type).join(', ')})`);
      assert.equal(ended.reason, 'shutdown');
      assert.equal(mine.at(-1)?.type, 'call.summary');
      assert.equal(call.events.at(-1)?.type, 'call.summary');
      assert.deepEqual((await records(recordsFile)).map((r) => [r.callId, r.endReason]), [['endless', 'shutdown']]);
      const log = await readFile(logFile, 'utf8');
      assert.match(log, /"outcome":"limit".*"msg":"drain over \(limit\)/);
      t.diagnostic(`DRAIN_TIMEOUT_MS=4000: the call ended with reason ${ended.reason} (${ended.durationMs} ms long), stream OK, exit ${exitCode}`);
    } finally {
      await call.hangUp(false);
      control.close();
      events.close();
      await gateway.stop();
    }
  });

  test('POST /v1/admin/drain: admin only, 202 and idempotent, /readyz flips, every ingest protocol refuses, the running call goes on, then exit 0 by itself', async (t) => {
    const recordsFile = path.join(dir, 'admin.jsonl');
    const audioSocketPort = await freePort();
    const gateway = await GatewayProcess.start({
      env: {
        ASR: 'none',
        JWT_SECRET: TEST_SECRET,
        CALL_RECORDS_FILE: recordsFile,
        LOG_LEVEL: 'info',
        DRAIN_TIMEOUT_MS: '120000',
        AUDIOHOOK_API_KEYS: 'drain-key',
        TWILIO_STREAM_TOKENS: 'drain-token',
        AUDIOSOCKET_PORT: String(audioSocketPort),
      },
      rtpPortMin: 48120,
      rtpPortMax: 48129,
      logFile: path.join(dir, 'admin.log'),
    });
    const [admin, supervisor, agent, pbx] = await Promise.all([
      hsToken({ role: 'admin', subject: 'ops-admin' }),
      hsToken({ role: 'supervisor', subject: 'sam', queues: ['orders'] }),
      hsToken({ role: 'agent', subject: 'agent-1', agentId: 'agent-1' }),
      hsToken({ role: 'pbx', subject: 'pbx-1' }),
    ]);
    const events = await EventRecorder.connect(gateway.httpPort, `?access_token=${admin}`);
    const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`, grpc.credentials.createInsecure(), { token: pbx });
    const push = (text: string, utterance: number): Promise<void> =>
      new Promise((resolve, reject) =>
        control.raw.PushTranscript({ call_id: 'running', role: 'LEG_ROLE_CUSTOMER', text, final: true, utterance_id: utterance, start_ms: utterance * 3000, end_ms: utterance * 3000 + 2000 }, (err) => (err ? reject(err) : resolve())),
      );
    try {
      await control.startCall({ call_id: 'running', agent_id: 'agent-1', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
      await push('hello i have a question about my order', 1);

      // Who may drain: an admin, and no one else.
      assert.equal((await getJson(gateway.httpPort, '/v1/admin/drain', undefined, 'POST')).status, 401);
      for (const token of [supervisor, agent, pbx]) {
        const refused = await getJson(gateway.httpPort, '/v1/admin/drain', token, 'POST');
        assert.equal(refused.status, 403);
        assert.deepEqual((refused.body['error'] as Record<string, unknown>)['code'], 'SGW_PERMISSION_DENIED');
      }
      assert.equal((await getJson(gateway.httpPort, '/v1/admin/drain', supervisor)).status, 403, 'the progress is for admins too');
      assert.equal((await getJson(gateway.httpPort, '/readyz')).status, 200, 'refused requests drained nothing');

      const accepted = await getJson(gateway.httpPort, '/v1/admin/drain', admin, 'POST');
      assert.equal(accepted.status, 202);
      assert.equal(accepted.body['state'], 'draining');
      assert.equal(accepted.body['origin'], 'admin');
      assert.equal(accepted.body['requestedBy'], 'ops-admin');
      assert.equal(accepted.body['activeCalls'], 1);
      const ready = await getJson(gateway.httpPort, '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body['ready'], false);
      assert.equal((await getJson(gateway.httpPort, '/healthz')).status, 200);
      const again = await getJson(gateway.httpPort, '/v1/admin/drain', admin, 'POST');
      assert.equal(again.status, 202);
      assert.deepEqual([again.body['startedAt'], again.body['deadline']], [accepted.body['startedAt'], accepted.body['deadline']], 'a second request changes nothing');

      // Every ingest protocol refuses a new call.
      const refusals: Record<string, string> = {};
      refusals['StartCall'] = await grpcAnswer(control.startCall({ call_id: 'new-rtp', agent_id: 'a', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] }));
      refusals['StartCall transcripts_only'] = await grpcAnswer(
        control.startCall({ call_id: 'new-push', agent_id: 'a', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] }),
      );
      refusals['StreamAudio'] = await streamAudioAnswer(control, 'new-stream');
      const audioHook = await AudioHookClient.connect(gateway.httpPort, { apiKey: 'drain-key' });
      const audioHookClose = await audioHook.closed;
      refusals['AudioHook'] = `${audioHookClose.code} ${audioHookClose.reason}`;
      const twilio = await TwilioStreamClient.connect(gateway.httpPort, { token: 'drain-token' });
      const twilioClose = await twilio.closed;
      refusals['Twilio'] = `${twilioClose.code} ${twilioClose.reason}`;
      const audioSocket = await AudioSocketClient.connect(audioSocketPort);
      await audioSocket.sendUuid(randomUUID());
      await audioSocket.streamAudio(silence(100, 8000), 8000, { realTime: false });
      await audioSocket.closed;
      refusals['AudioSocket'] = 'closed';
      const ingest = new WebSocket(`ws://127.0.0.1:${gateway.httpPort}/v1/transcripts?access_token=${pbx}`);
      await once(ingest, 'open');
      ingest.send(JSON.stringify({ type: 'call.start', callId: 'new-ws', language: 'en-US', ref: 'r1' }));
      const [reply] = (await once(ingest, 'message')) as [Buffer];
      ingest.close();
      const replied = JSON.parse(reply.toString('utf8')) as { type: string; code: string; message: string };
      refusals['/v1/transcripts'] = `${replied.type} ${replied.code}: ${replied.message}`;
      for (const [protocol, answer] of Object.entries(refusals)) {
        if (protocol === 'AudioSocket') continue;
        assert.match(answer, /^(UNAVAILABLE: |1013 SGW_DRAINING: |error SGW_DRAINING: )gateway is draining \(admin\)/, `${protocol}: ${answer}`);
      }
      const metrics = await gateway.metricsText();
      assert.deepEqual(
        Object.fromEntries(['start-call', 'stream-audio', 'audiohook', 'twilio', 'audiosocket', 'transcripts'].map((p) => [p, metricSum(metrics, 'sgw_drain_refusals_total', { protocol: p })])),
        { 'start-call': 2, 'stream-audio': 1, audiohook: 1, twilio: 1, audiosocket: 1, transcripts: 1 },
      );
      assert.equal(metricSum(metrics, 'sgw_draining'), 1);
      assert.equal(metricSum(metrics, 'sgw_active_calls'), 1, 'the refused calls left nothing behind');

      // The running call goes on: a transcript pushed now is analysed and published.
      await push('i want to cancel my order', 2);
      await events.waitFor((e) => e.event.callId === 'running' && e.event.type === 'intent', 5000, 'an intent after the drain began');
      const progress = await getJson(gateway.httpPort, '/v1/admin/drain', admin);
      assert.equal(progress.status, 200);
      assert.equal(progress.body['activeCalls'], 1);
      assert.equal(progress.body['refused'], 7);

      // It ends: no call is left, and the gateway exits by itself (no signal is sent here).
      await control.endCall('running');
      const exitCode = await gateway.exited;
      assert.equal(exitCode, 0);
      assert.deepEqual(
        events.forCall('running').filter((e) => e.type === 'call.ended' || e.type === 'call.summary').map((e) => (e.type === 'call.ended' ? `call.ended:${e.reason}` : e.type)),
        ['call.ended:ended-by-request', 'call.summary'],
      );
      assert.deepEqual((await records(recordsFile)).map((r) => [r.callId, r.endReason]), [['running', 'ended-by-request']]);
      t.diagnostic(`admin drain: 401/403/403/403 for anonymous, supervisor, agent, pbx; 202 for admin; refusals ${JSON.stringify(refusals)}; exit ${exitCode} once the call ended`);
    } finally {
      control.close();
      events.close();
      await gateway.stop();
    }
  });
});
