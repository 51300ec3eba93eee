/**
 * MAX_CALLS_PER_CREDENTIAL on real sockets: one credential cannot hold more
 * calls than the cap, whichever way it starts them (gRPC StartCall and
 * StreamAudio, /v1/transcripts, AudioHook, Twilio, AudioSocket); the refusal
 * is RESOURCE_EXHAUSTED (or the protocol's refusal) naming the limit,
 * counted; other credentials are unaffected, and an ended call frees a slot.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { CallControl } from '../../src/ingest/grpc/client.js';
import type { StreamAudioResponse__Output } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioResponse.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { grpcAnswer } from '../helpers/grpc.js';
import { AudioHookClient } from '../helpers/clients/audiohook.js';
import { AudioSocketClient } from '../helpers/clients/audiosocket.js';
import { TwilioStreamClient } from '../helpers/clients/twilio.js';
import { metricValue, startTestGateway } from '../helpers/gateway.js';
import { silence } from '../helpers/speech.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-call-limit-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LIMIT_MESSAGE = /too many calls: credential \S+ has \d+ active, the limit set by MAX_CALLS_PER_CREDENTIAL/;


const transcriptsOnly = (callId: string) => ({ call_id: callId, agent_id: 'a', queue: 'q', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' as const }] });

describe('calls per credential', { timeout: 120_000 }, () => {
  test('default: a flood of 1200 StartCalls from one token gets 1000 calls and 200 RESOURCE_EXHAUSTED; another token still starts; an end frees a slot', async (t) => {
    const gw = await startTestGateway({ rtpPortMin: 46540, rtpPortMax: 46543, asr: 'none', jwtSecret: TEST_SECRET, callRecordsFile: path.join(dir, 'flood.jsonl') });
    const address = `127.0.0.1:${gw.addresses.grpcPort}`;
    const flooder = new CallControl(address, undefined, { token: await hsToken({ role: 'pbx', subject: 'pbx-flood' }) });
    const other = new CallControl(address, undefined, { token: await hsToken({ role: 'pbx', subject: 'pbx-2' }) });
    try {
      const answers: string[] = [];
      for (let batch = 0; batch < 12; batch++) {
        answers.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => grpcAnswer(flooder.startCall(transcriptsOnly(`flood-${batch * 100 + i}`)))))));
      }
      const refused = answers.filter((a) => a !== 'OK');
      assert.equal(answers.length - refused.length, 1000, 'accepted');
      assert.equal(refused.length, 200);
      for (const r of refused) assert.match(r, /^RESOURCE_EXHAUSTED: too many calls: credential sub:pbx-flood has 1000 active, the limit set by MAX_CALLS_PER_CREDENTIAL$/);
      assert.equal(await metricValue(gw.metrics, 'sgw_calls_over_credential_limit_total'), 200);
      assert.equal(await metricValue(gw.metrics, 'sgw_grpc_requests_total', { method: 'StartCall', code: 'RESOURCE_EXHAUSTED' }), 200);
      assert.equal(await grpcAnswer(other.startCall(transcriptsOnly('other-1'))), 'OK', 'another credential is not held back');

      assert.equal(await grpcAnswer(flooder.startCall(transcriptsOnly('flood-again'))), answers.at(-1));
      await flooder.endCall('flood-0');
      assert.equal(await grpcAnswer(flooder.startCall(transcriptsOnly('flood-again'))), 'OK', 'the ended call freed its slot');
      t.diagnostic(`1200 StartCalls from one pbx token: ${answers.length - refused.length} accepted, ${refused.length} RESOURCE_EXHAUSTED`);
    } finally {
      flooder.close();
      other.close();
      await gw.close();
    }
  });

  test('every call-creating ingest counts: StreamAudio, /v1/transcripts, AudioHook, Twilio, AudioSocket (limit 2)', async () => {
    const apiKey = 'audiohook-key-0123456789';
    const streamToken = 'twilio-stream-token-0123456789';
    const gw = await startTestGateway({
      rtpPortMin: 46544,
      rtpPortMax: 46547,
      asr: 'none',
      jwtSecret: TEST_SECRET,
      maxCallsPerCredential: 2,
      audiohookApiKeys: [apiKey],
      twilioStreamTokens: [streamToken],
      audioSocketPort: 0,
      callRecordsFile: path.join(dir, 'paths.jsonl'),
    });
    const port = gw.addresses.http.port;
    const pbxToken = await hsToken({ role: 'pbx', subject: 'pbx-paths' });
    const pbx = new CallControl(`127.0.0.1:${gw.addresses.grpcPort}`, undefined, { token: pbxToken });
    const opened: { close(): void }[] = [];
    try {
      // gRPC: one StartCall and one StreamAudio hold both slots; a second StreamAudio is refused.
      assert.equal(await grpcAnswer(pbx.startCall(transcriptsOnly('paths-1'))), 'OK');
      const streamAudio = (callId: string): Promise<{ first: string; status: grpc.StatusObject }> => {
        const stream = pbx.streamAudio();
        opened.push({ close: () => stream.cancel() });
        let first = '';
        stream.on('data', (r: StreamAudioResponse__Output) => (first ||= r.message ?? ''));
        stream.on('error', () => undefined);
        stream.write({ start: { call_id: callId, agent_id: 'a', queue: 'q', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] } });
        const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
        return new Promise((resolve) => {
          stream.once('data', () => resolve({ first, status: { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() } }));
          void status.then((s) => resolve({ first, status: s }));
        });
      };
      assert.equal((await streamAudio('paths-2')).first, 'started');
      const refusedStream = await streamAudio('paths-3');
      assert.equal(refusedStream.status.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(refusedStream.status.details, LIMIT_MESSAGE);

      // /v1/transcripts with the same token: the call.start is answered with the error.
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/transcripts?access_token=${pbxToken}`);
      opened.push(ws);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const reply = new Promise<{ type: string; code?: string; message?: string }>((resolve) => ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString('utf8')) as { type: string })));
      ws.send(JSON.stringify({ type: 'call.start', callId: 'paths-4', language: 'en-US' }));
      const refusal = await reply;
      assert.equal(refusal.code, 'SGW_CALL_LIMIT');
      assert.match(refusal.message ?? '', LIMIT_MESSAGE);

      // AudioHook: the key is the credential; the third session is refused with a disconnect naming the limit.
      const hooks: AudioHookClient[] = [];
      for (let i = 0; i < 3; i++) {
        const hook = await AudioHookClient.connect(port, { apiKey });
        opened.push(hook.ws);
        hooks.push(hook);
      }
      await hooks[0]?.open();
      await hooks[1]?.open();
      const disconnect = hooks[2]?.next('disconnect');
      hooks[2]?.send('open', { organizationId: randomUUID(), conversationId: randomUUID(), participant: { id: randomUUID() }, media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }], language: 'en-US' });
      const refusedHook = await disconnect;
      assert.equal(refusedHook?.parameters['reason'], 'error');
      assert.match(String(refusedHook?.parameters['info']), /^SGW_CALL_LIMIT: too many calls: credential audiohook-key:[0-9a-f]{12} has 2 active/);

      // Twilio: the stream token is the credential; the third stream is closed with the reason.
      const streams: TwilioStreamClient[] = [];
      for (let i = 0; i < 3; i++) {
        const stream = await TwilioStreamClient.connect(port, { token: streamToken });
        opened.push(stream.ws);
        streams.push(stream);
        stream.begin({ customParameters: { callId: `paths-twilio-${i}` } });
        if (i < 2) await new Promise((r) => setTimeout(r, 200));
      }
      const closed = await streams[2]?.closed;
      assert.equal(closed?.code, 1008);
      assert.match(closed?.reason ?? '', /SGW_CALL_LIMIT: too many calls/);
      assert.ok(streams.slice(0, 2).every((s) => s.ws.readyState === WebSocket.OPEN), 'the first two streams run');

      // AudioSocket: no credentials in the protocol, so the peer address is the credential.
      const sockets: AudioSocketClient[] = [];
      for (let i = 0; i < 3; i++) {
        const socket = await AudioSocketClient.connect(gw.addresses.audioSocketPort ?? 0);
        opened.push({ close: () => socket.destroy() });
        sockets.push(socket);
        await socket.sendUuid(randomUUID());
        await socket.streamAudio(silence(40, 8000), 8000, { realTime: false });
        if (i < 2) await new Promise((r) => setTimeout(r, 200));
      }
      await sockets[2]?.closed;
      assert.ok(sockets.slice(0, 2).every((s) => s.isOpen), 'the first two connections stream');
      assert.equal(await metricValue(gw.metrics, 'sgw_audiosocket_errors_total', { reason: 'call_refused' }), 1);

      assert.equal(await metricValue(gw.metrics, 'sgw_calls_over_credential_limit_total'), 5);
    } finally {
      for (const o of opened) o.close();
      pbx.close();
      await gw.close();
    }
  });
});
