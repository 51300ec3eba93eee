/**
 * Log amplification, on a real gateway process (`node dist/src/cli.js
 * serve`, authentication on, ASR=none) whose stdout is the log under test:
 * 1,000 unauthenticated gRPC requests, an RTP sender changing SSRC with
 * every packet, and 4,000 DTMF presses a second write one line each plus a
 * summary at the end, and DTMF events are bounded per leg; an escalation
 * line has pino's numeric level; and no line of the whole run, SIGTERM
 * included, has a key twice.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status, type ServiceError } from '@grpc/grpc-js';
import { RtpPacket } from 'rtp.js/packets';
import { GatewayProcess, metricSum } from '../../loadtest/GatewayProcess.js';
import { DTMF_BURST, DTMF_PRESSES_PER_SECOND } from '../../src/calls/DtmfRateLimit.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { TEST_SECRET, hsToken } from '../helpers/auth.js';
import { EventRecorder } from '../helpers/gateway.js';
import { completeLines, duplicateKeys, type LogLine } from '../helpers/logLines.js';

// This file owns ports 47300-47309.
const RTP_PORT_MIN = 47300;

let scratch: string;
let logFile: string;
let gateway: GatewayProcess;
let admin: CallControl;
let events: EventRecorder;

async function logText(): Promise<string> {
  return readFile(logFile, 'utf8');
}

/** The gateway is still writing: complete lines only. */
async function logLines(): Promise<LogLine[]> {
  return completeLines(await logText())
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricSum(await gateway.metricsText(), name, labels);
}

/** Waits until the gateway has written `predicate`-matching log lines (stdout is piped: a little behind). */
async function settle(what: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

function rtp(pt: number, seq: number, timestamp: number, ssrc: number, payload: Uint8Array): Buffer {
  const p = new RtpPacket();
  p.setPayloadType(pt);
  p.setSequenceNumber(seq & 0xffff);
  p.setTimestamp(timestamp >>> 0);
  p.setSsrc(ssrc >>> 0);
  p.setPayload(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
  const view = p.getView();
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

async function udpSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

async function startRtpCall(callId: string): Promise<number> {
  const reply = await admin.startCall({ call_id: callId, agent_id: 'agent-1', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', telephone_event_payload_type: 101 }] });
  const port = reply.legs[0]?.rtp_port;
  assert.ok(port !== undefined && port > 0);
  return port;
}

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-logs-'));
  logFile = path.join(scratch, 'gateway.log');
  gateway = await GatewayProcess.start({
    env: { ASR: 'none', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info', RTP_TIMEOUT_MS: '20000', CALL_RECORDS_FILE: path.join(scratch, 'records.jsonl'), PHONETIC_MATCHING: 'off' },
    rtpPortMin: RTP_PORT_MIN,
    rtpPortMax: RTP_PORT_MIN + 9,
    logFile,
  });
  const adminToken = await hsToken({ role: 'admin', subject: 'test-admin' });
  admin = new CallControl(`127.0.0.1:${gateway.grpcPort}`, undefined, { token: adminToken });
  events = await EventRecorder.connect(gateway.httpPort, `?access_token=${adminToken}`);
});

after(async () => {
  events.close();
  admin.close();
  await gateway.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('log lines a client can repeat at will (real gateway process)', () => {
  test('1,000 unauthenticated gRPC requests write one log line (and count 1,000)', async () => {
    const anonymous = new CallControl(`127.0.0.1:${gateway.grpcPort}`);
    const linesBefore = (await logLines()).length;
    let refused = 0;
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async () => {
          try {
            await anonymous.startCall({ call_id: '', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] });
          } catch (err) {
            if ((err as ServiceError).code === status.UNAUTHENTICATED) refused++;
          }
        }),
      );
    }
    anonymous.close();
    assert.equal(refused, 1000);
    const reason = 'grpc-refused:SGW_UNAUTHENTICATED';
    await settle(async () => (await metric('sgw_log_occurrences_total', { reason })) === 1000);
    assert.equal(await metric('sgw_log_suppressed_total', { reason }), 999);
    await sleep(200); // stdout is piped into the file: let it catch up
    const written = (await logLines()).slice(linesBefore);
    // The figure of issue #14: log lines per 1,000 bad requests.
    console.log(`# log lines written for 1000 unauthenticated gRPC requests: ${written.length}`);
    assert.equal(written.length, 1, written.map((l) => l.msg).join(' | '));
    assert.equal(written[0]?.msg, 'control-plane request refused');
    assert.equal(written[0]?.['code'], 'SGW_UNAUTHENTICATED');
    assert.equal(written[0]?.['source'], '127.0.0.1');
  });

  test('an RTP sender changing SSRC on every packet writes one line for 1,000 changes', async () => {
    const port = await startRtpCall('ssrc-flood');
    const sender = await udpSocket();
    const silence = new Uint8Array(160).fill(0xff);
    // A steady start latches the leg to this socket (docs/integrations/rtp.md#source-latching); then every packet a new SSRC.
    for (let i = 0; i < 10; i++) {
      sender.send(rtp(0, i, i * 160, 0x0fff, silence), port, '127.0.0.1');
      await sleep(20);
    }
    for (let i = 10; i < 1010; i++) {
      sender.send(rtp(0, i, i * 160, 0x1000 + i, silence), port, '127.0.0.1');
      if (i % 50 === 49) await sleep(5);
    }
    await settle(async () => (await metric('sgw_log_occurrences_total', { reason: 'rtp-ssrc-change' })) >= 900);
    await sleep(200);
    const changes = (await logLines()).filter((l) => l.msg === 'RTP SSRC changed');
    assert.equal(changes.length, 1, 'the first change is logged, the others are counted');
    assert.equal(changes[0]?.['callId'], 'ssrc-flood');
    sender.close();
    await admin.endCall('ssrc-flood');
  });

  test('4,000 DTMF presses a second on one leg: at most 20 a second (plus a burst of 10) are published, the rest counted as dropped', async () => {
    const port = await startRtpCall('dtmf-flood');
    const sender = await udpSocket();
    const startedAt = Date.now();
    let seq = 0;
    // 40 presses every 10 ms for one second; each one a complete RFC 4733 event (start = end packet, E bit, 40 ms).
    for (let tick = 0; tick < 100; tick++) {
      for (let i = 0; i < 40; i++) {
        const press = tick * 40 + i;
        sender.send(rtp(101, seq++, press * 800, 0x5151, Uint8Array.of(press % 10, 0x80 | 10, 0x01, 0x40)), port, '127.0.0.1');
      }
      const due = startedAt + (tick + 1) * 10;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    const elapsedS = (Date.now() - startedAt) / 1000;
    sender.close();
    await settle(async () => (await metric('sgw_rtp_telephone_events_total', { outcome: 'digit' })) >= 3900);
    const pressed = await metric('sgw_rtp_telephone_events_total', { outcome: 'digit' });
    await settle(async () => events.forCall('dtmf-flood').filter((e) => e.type === 'dtmf').length + (await metric('sgw_dtmf_dropped_total')) >= pressed);
    const published = events.forCall('dtmf-flood').filter((e) => e.type === 'dtmf').length;
    const dropped = await metric('sgw_dtmf_dropped_total');
    // The figure of issue #14: DTMF events published for 4,000 presses in one second.
    console.log(`# DTMF: ${pressed} presses received in ${elapsedS.toFixed(2)} s, ${published} dtmf events published, ${dropped} dropped`);
    assert.equal(published + dropped, pressed, 'every press is either published or counted as dropped');
    assert.ok(published >= DTMF_BURST, `${published} published`);
    assert.ok(published <= DTMF_BURST + Math.ceil(DTMF_PRESSES_PER_SECOND * elapsedS), `${published} published in ${elapsedS} s`);
    await sleep(200);
    const lines = await logLines();
    assert.equal(lines.filter((l) => l.msg === 'DTMF press received').length, 0, 'presses are logged at debug only');
    assert.equal(lines.filter((l) => l['callId'] === 'dtmf-flood' && /DTMF presses over/.test(l.msg ?? '')).length, 1, 'the first drop is logged once');
    await admin.endCall('dtmf-flood');
  });

  test('the escalation line carries escalationLevel; pino\'s level stays numeric', async () => {
    await admin.startCall({ call_id: 'angry', agent_id: 'agent-2', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    await new Promise<void>((resolve, reject) =>
      admin.raw.PushTranscript({ call_id: 'angry', role: 'LEG_ROLE_CUSTOMER', text: 'this is ridiculous i will contact my lawyer', final: true, utterance_id: 1, start_ms: 0, end_ms: 2000 }, (err) => (err ? reject(err) : resolve())),
    );
    await events.waitFor((e) => e.event.callId === 'angry' && e.event.type === 'escalation', 5000, 'escalation');
    await settle(async () => (await logLines()).some((l) => l.msg === 'escalation level changed'));
    const line = (await logLines()).find((l) => l.msg === 'escalation level changed');
    assert.equal(line?.level, 30);
    assert.ok(typeof line?.['escalationLevel'] === 'string' && line['escalationLevel'] !== 'calm', JSON.stringify(line));
    await admin.endCall('angry');
  });

  test('after SIGTERM: suppressed repeats are summarised, and no line of the run has a key twice', async () => {
    assert.equal(await gateway.stop(), 0);
    const text = await logText();
    const raw = text.split('\n').filter((line) => line !== '');
    const notJson = raw.filter((line) => !line.startsWith('{'));
    assert.deepEqual(notJson, [], 'every line is a JSON log line');
    for (const line of raw) assert.deepEqual(duplicateKeys(line), [], line);
    const lines = raw.map((line) => JSON.parse(line) as LogLine);
    const renamed = lines.filter((l) => Object.keys(l).some((k) => k.endsWith('Field')));
    assert.deepEqual(renamed, [], 'no log call in the run passed a field named like a pino key or a binding with another value');
    const summary = lines.find((l) => l.msg?.startsWith('control-plane request refused (repeated'));
    assert.equal(summary?.['suppressed'], 999);
    assert.ok(lines.some((l) => l.msg?.startsWith('RTP SSRC changed (repeated')));
    assert.equal(lines[lines.length - 1]?.msg, 'gateway stopped');
  });
});
