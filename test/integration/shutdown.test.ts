/**
 * SIGTERM to a real gateway process (`node dist/src/cli.js serve`) while a
 * gRPC StreamAudio call is streaming: the gateway ends the call first
 * (reason `shutdown`, its final transcript, `call.ended` and `call.summary`
 * to the stream and to /v1/events, the post-call record written), finishes
 * the stream with OK, then closes its servers and exits 0. And the same order
 * for every other ingest path (RTP, AudioHook, Twilio, AudioSocket,
 * transcripts only): each call ends with reason `shutdown` while its client
 * is still connected.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { GatewayProcess } from '../../loadtest/GatewayProcess.js';
import { encodeL16 } from '../../src/audio/codecs/index.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import type { StreamAudioResponse__Output } from '../../src/ingest/grpc/generated/speechgateway/v1/StreamAudioResponse.js';
import { AudioHookClient } from '../helpers/clients/audiohook.js';
import { AudioSocketClient } from '../helpers/clients/audiosocket.js';
import { TwilioStreamClient } from '../helpers/clients/twilio.js';
import { EventRecorder, startTestGateway } from '../helpers/gateway.js';
import { chunks, concat, silence, synthesize } from '../helpers/speech.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-shutdown-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SIGTERM drains StreamAudio', { timeout: 120_000 }, () => {
  test('the call ends with reason shutdown, the stream finishes OK after call.summary, events and the record are out, exit code 0', async (t) => {
    const rate = 16000;
    const speech = concat(await synthesize('I would like to cancel my order please', { rate }), silence(300, rate));
    const records = path.join(dir, 'records.jsonl');
    const gateway = await GatewayProcess.start({
      env: { ASR: 'pocketsphinx', ASR_WORKERS: '1', ASR_MODE: 'transcribe', JWT_SECRET: '', CALL_RECORDS_FILE: records, LOG_LEVEL: 'info' },
      rtpPortMin: 46500,
      rtpPortMax: 46509,
      logFile: path.join(dir, 'gateway.log'),
    });
    const events = await EventRecorder.connect(gateway.httpPort);
    const eventsClosed = new Promise<number>((resolve) => events.ws.once('close', (code) => resolve(code)));
    const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`);
    const callId = 'shutdown-1';
    try {
      const stream = control.streamAudio();
      const responses: StreamAudioResponse__Output[] = [];
      stream.on('data', (r: StreamAudioResponse__Output) => responses.push(r));
      stream.on('error', () => undefined);
      const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
      stream.write({ start: { call_id: callId, agent_id: 'agent-1', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: rate }] } });

      // The phrase in real time, then silence until the stream ends: the client never hangs up itself.
      let streaming = true;
      const pump = (async () => {
        const t0 = Date.now();
        let sent = 0;
        for (const chunk of chunks(speech, rate)) {
          if (!streaming) return;
          stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: Buffer.from(encodeL16(chunk)) } });
          sent += chunk.length;
          const due = t0 + (sent / rate) * 1000 - Date.now();
          if (due > 0) await sleep(due);
        }
        const quiet = Buffer.from(encodeL16(silence(20, rate)));
        while (streaming) {
          stream.write({ audio: { role: 'LEG_ROLE_CUSTOMER', payload: quiet } });
          await sleep(20);
        }
      })();

      await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.started', 10_000, 'call.started');
      await sleep((speech.length / rate) * 1000 + 200);
      const exitCode = await gateway.stop();
      const final = await status;
      streaming = false;
      await pump;

      // The StreamAudio client: a clean end, not CANCELLED.
      assert.equal(final.code, grpc.status.OK, `status ${grpc.status[final.code]}: ${final.details}`);
      const streamed = responses.filter((r) => r.event != null).map((r) => r.event as NonNullable<StreamAudioResponse__Output['event']>);
      assert.equal(streamed.at(-1)?.type, 'call.summary', `the stream ends after call.summary (got ${streamed.map((e) => e.type).join(', ')})`);
      const endedOnStream = streamed.find((e) => e.type === 'call.ended');
      assert.equal((JSON.parse(endedOnStream?.json ?? '{}') as { reason?: string }).reason, 'shutdown');

      // The event client: the call's last events, then the server's going-away close.
      const mine = events.forCall(callId);
      const ended = mine.find((e) => e.type === 'call.ended');
      assert.ok(ended?.type === 'call.ended', `call.ended on /v1/events (got ${mine.map((e) => e.type).join(', ')})`);
      assert.equal(ended.reason, 'shutdown');
      assert.equal(mine.at(-1)?.type, 'call.summary');
      const finals = mine.filter((e) => e.type === 'transcript' && e.final && e.leg === 'customer');
      assert.ok(finals.length > 0, 'the customer phrase was transcribed before the call ended');
      assert.ok(mine.indexOf(finals.at(-1) as (typeof mine)[number]) < mine.indexOf(ended), 'final transcripts come before call.ended');
      assert.equal(await eventsClosed, 1001);

      // The post-call record, and the process.
      const lines = (await readFile(records, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { callId: string; endReason: string });
      assert.deepEqual(lines.filter((r) => r.callId === callId).map((r) => r.endReason), ['shutdown']);
      assert.equal(exitCode, 0);
      const log = await readFile(path.join(dir, 'gateway.log'), 'utf8');
      assert.match(log, /"msg":"gateway stopped"/);
      const closeCode = await eventsClosed;
      t.diagnostic(
        `StreamAudio: status ${grpc.status[final.code]} after ${streamed.length} events ending ${streamed.slice(-2).map((e) => e.type).join(', ')} (reason shutdown); ` +
          `/v1/events: ${mine.map((e) => e.type).join(', ')}, then close ${closeCode}; exit code ${exitCode}`,
      );
    } finally {
      control.close();
      events.close();
      await gateway.stop();
    }
  });

  test('every other ingest path: calls end with reason shutdown before their connections close', async () => {
    const gw = await startTestGateway({ rtpPortMin: 46510, rtpPortMax: 46519, asr: 'none', audioSocketPort: 0, callRecordsFile: path.join(dir, 'in-process.jsonl') });
    const events = await EventRecorder.connect(gw.addresses.http.port);
    const started = (callId: string): Promise<unknown> => events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.started', 5000, `call.started of ${callId}`);
    const rtp = await gw.control.startCall({ call_id: 'sd-rtp', agent_id: 'a', queue: 'q', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] });
    const pushed = await gw.control.startCall({ call_id: 'sd-push', agent_id: 'a', queue: 'q', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });

    const audioHook = await AudioHookClient.connect(gw.addresses.http.port);
    const conversationId = randomUUID();
    await audioHook.open({ conversationId });
    const twilio = await TwilioStreamClient.connect(gw.addresses.http.port);
    twilio.begin({ customParameters: { callId: 'sd-twilio' } });
    const audioSocket = await AudioSocketClient.connect(gw.addresses.audioSocketPort ?? 0);
    const uuid = randomUUID();
    await audioSocket.sendUuid(uuid);
    const quiet = silence(20, 8000);
    const feeding = setInterval(() => {
      twilio.media('inbound', quiet);
      void audioSocket.streamAudio(quiet, 8000, { realTime: false });
    }, 20);
    try {
      const callIds = [rtp.call_id, pushed.call_id, conversationId, 'sd-twilio', uuid];
      for (const callId of callIds) await started(callId);
      const audioHookClosed = audioHook.closed;
      await gw.close();

      const reasonOf = (callId: string): string => {
        const end = events.forCall(callId).find((e) => e.type === 'call.ended');
        return end?.type === 'call.ended' ? end.reason : 'none';
      };
      const reasons = Object.fromEntries(callIds.map((id) => [id, reasonOf(id)]));
      assert.deepEqual(reasons, Object.fromEntries(callIds.map((id) => [id, 'shutdown'])));
      for (const callId of callIds) assert.equal(events.forCall(callId).at(-1)?.type, 'call.summary', callId);
      // AudioHook is told why before the socket goes.
      const disconnect = audioHook.received.find((m) => m.type === 'disconnect');
      assert.equal(disconnect?.parameters['reason'], 'completed');
      assert.equal((await audioHookClosed).code, 1001);
      assert.equal((await twilio.closed).code, 1001);
      await audioSocket.closed;
    } finally {
      clearInterval(feeding);
      events.close();
      await gw.close();
    }
  });
});
