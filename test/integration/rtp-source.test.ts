/**
 * RTP source latching through a real gateway (ASR=none: the legs are received
 * and counted, nothing is recognised): StartCall's expected_source, forged
 * datagrams and a forged RTCP BYE from other sockets, the PBX moving to a new
 * socket mid-call under RTP_SOURCE_POLICY relatch (the default) and strict.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { ByePacket, CompoundPacket, RtpPacket } from 'rtp.js/packets';
import { loadConfig } from '../../src/config.js';
import type { LegSpec } from '../../src/ingest/grpc/generated/speechgateway/v1/LegSpec.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { udpPeers } from '../helpers/udp.js';
import { rejection } from '../helpers/grpc.js';

// This file owns ports 47500-47529.
const HOST = '127.0.0.1';
let gw: TestGateway;
let events: EventRecorder;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 47500, rtpPortMax: 47519, asr: 'none', rtpTimeoutMs: 5000 });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
  closeAll();
});

const { socket, send, pace, closeAll } = udpPeers(HOST);

interface Stream {
  ssrc: number;
  seq: number;
  ts: number;
}

function rtp(stream: Stream): Uint8Array {
  const p = new RtpPacket();
  p.setPayloadType(0);
  p.setSequenceNumber(stream.seq & 0xffff);
  p.setTimestamp(stream.ts >>> 0);
  p.setSsrc(stream.ssrc);
  p.setPayload(new DataView(new Uint8Array(160).fill(0x80).buffer));
  stream.seq = (stream.seq + 1) & 0xffff;
  stream.ts = (stream.ts + 160) >>> 0;
  const v = p.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** A PBX's 20 ms PCMU packets from `from`. */
const play = (from: dgram.Socket, port: number, stream: Stream, count: number): Promise<number> => pace(from, port, count, () => rtp(stream));

function bye(ssrc: number): Uint8Array {
  const b = new ByePacket();
  b.addSsrc(ssrc);
  b.setReason('hangup');
  const c = new CompoundPacket();
  c.setPackets([b]);
  const v = c.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

async function customerLeg(g: TestGateway, callId: string) {
  const info = await g.control.getCall(callId);
  return info.legs.find((l) => l.role === 'LEG_ROLE_CUSTOMER') ?? assert.fail('no customer leg');
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const startCall = (g: TestGateway, callId: string, customer: Partial<LegSpec> = {}) =>
  g.control.startCall({ call_id: callId, agent_id: 'agent-1', queue: 'orders', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', ...customer }] });

describe('RTP source latching through the gateway', () => {
  test('a bad expected_source gets INVALID_ARGUMENT naming the field', async () => {
    const cases: [LegSpec['expected_source'], RegExp][] = [
      [{ address: 'pbx.example.com' }, /^legs\[0\]\.expected_source\.address: must be an IPv4 address/],
      [{ address: '::1' }, /^legs\[0\]\.expected_source\.address: must be an IPv4 address/],
      [{ address: '10.0.0.300' }, /^legs\[0\]\.expected_source\.address: /],
      [{ address: '0.0.0.0' }, /^legs\[0\]\.expected_source\.address: 0\.0\.0\.0 is not a unicast address/],
      [{ address: '239.1.2.3' }, /^legs\[0\]\.expected_source\.address: .* not a unicast address/],
      [{ address: '10.0.0.5', port: 70000 }, /^legs\[0\]\.expected_source\.port: must be 1-65535, or 0 for any port/],
      [{ port: 5004 }, /^legs\[0\]\.expected_source\.address: is required with a port/],
    ];
    for (const [expected, message] of cases) {
      const err = await rejection(startCall(gw, 'bad-source', { expected_source: expected }));
      assert.equal(err.code, status.INVALID_ARGUMENT, JSON.stringify(expected));
      assert.match(err.details, message);
    }
    assert.equal((await gw.control.listCalls()).calls.length, 0, 'nothing was started');
  });

  test('expected source: forged datagrams and a forged BYE are dropped, every PBX packet is received, the PBX BYE ends the call', async () => {
    const pbx = await socket();
    const forger = await socket();
    const { port: pbxPort } = pbx.address();
    const reply = await startCall(gw, 'expected', { expected_source: { address: HOST, port: pbxPort } });
    const leg = reply.legs[0] ?? assert.fail('no leg');
    const unexpectedBefore = await metricValue(gw.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'unexpected_source' });

    // Before the PBX's media: a steady forged stream, and a BYE naming the SSRC the PBX will use.
    const forged: Stream = { ssrc: 0x7001, seq: 1, ts: 0 };
    for (let i = 0; i < 20; i++) await send(forger, rtp(forged), leg.rtp_port);
    await send(forger, bye(0x7001), leg.rtcp_port);
    await until('the forged datagrams dropped', async () => (await customerLeg(gw, 'expected')).packets_dropped === 21);
    assert.equal((await customerLeg(gw, 'expected')).remote, '', 'the forger did not latch');

    const stream: Stream = { ssrc: 0x7001, seq: 100, ts: 0 };
    const sent = await play(pbx, leg.rtp_port, stream, 25);
    // Mid-call: more forged RTP and a forged BYE; the call goes on.
    for (let i = 0; i < 10; i++) await send(forger, rtp(forged), leg.rtp_port);
    await send(forger, bye(0x7001), leg.rtcp_port);
    const more = await play(pbx, leg.rtp_port, stream, 10);
    await until('every PBX packet', async () => (await customerLeg(gw, 'expected')).packets_received === sent + more);
    const info = await customerLeg(gw, 'expected');
    assert.equal(info.remote, `${HOST}:${pbxPort}`);
    assert.equal(info.packets_dropped, 32);
    assert.equal((await gw.control.getCall('expected')).state, 'active', 'the forged BYE ended nothing');
    assert.equal((await metricValue(gw.metrics, 'sgw_rtp_packets_dropped_total', { reason: 'unexpected_source' })) - unexpectedBefore, 32);

    await send(pbx, bye(0x7001), leg.rtcp_port);
    const ended = await events.waitFor((e) => e.event.callId === 'expected' && e.event.type === 'call.ended', 3000, 'call.ended');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'rtcp-bye');
    console.log(`# expected source: 32 forged datagrams dropped (2 BYEs), ${info.packets_received} of ${sent + more} PBX packets received`);
  });

  test('relatch (default): the PBX moving to a new socket mid-call keeps the rest of the call; a single forged datagram does not', async () => {
    const reply = await startCall(gw, 'moved');
    const leg = reply.legs[0] ?? assert.fail('no leg');
    const takeoversBefore = await metricValue(gw.metrics, 'sgw_rtp_source_latches_total', { kind: 'takeover' });
    const forger = await socket();
    const oldSocket = await socket();
    const newSocket = await socket();
    await send(forger, rtp({ ssrc: 9, seq: 1, ts: 0 }), leg.rtp_port);
    const stream: Stream = { ssrc: 0x8001, seq: 500, ts: 0 };
    const before = await play(oldSocket, leg.rtp_port, stream, 25);
    await send(forger, rtp({ ssrc: 0x8001, seq: stream.seq, ts: stream.ts }), leg.rtp_port);
    const afterChange = await play(newSocket, leg.rtp_port, stream, 50);
    await until('every packet', async () => (await customerLeg(gw, 'moved')).packets_received === before + afterChange);
    const info = await customerLeg(gw, 'moved');
    assert.equal(info.remote, `${HOST}:${newSocket.address().port}`);
    assert.equal(info.packets_lost, 0);
    assert.equal(info.packets_dropped, 2, 'the two forged datagrams');
    assert.equal((await metricValue(gw.metrics, 'sgw_rtp_source_latches_total', { kind: 'takeover' })) - takeoversBefore, 1);
    console.log(`# source change (relatch): ${afterChange} packets sent after the change, ${info.packets_received - before} received; 2 forged dropped`);
    await gw.control.endCall('moved');
  });

  test('strict (RTP_SOURCE_POLICY=strict): the first source keeps the leg', async () => {
    assert.throws(() => loadConfig([], { RTP_SOURCE_POLICY: 'loose' }), /--rtp-source-policy \/ RTP_SOURCE_POLICY must be relatch or strict, got 'loose'/);
    const strict = await startTestGateway({ rtpPortMin: 47520, rtpPortMax: 47529, asr: 'none', rtpTimeoutMs: 5000 }, { RTP_SOURCE_POLICY: 'strict' });
    try {
      const reply = await startCall(strict, 'strict');
      const leg = reply.legs[0] ?? assert.fail('no leg');
      const oldSocket = await socket();
      const newSocket = await socket();
      const stream: Stream = { ssrc: 0x9001, seq: 1, ts: 0 };
      const before = await play(oldSocket, leg.rtp_port, stream, 10);
      const afterChange = await play(newSocket, leg.rtp_port, stream, 25);
      await until('the new source dropped', async () => (await customerLeg(strict, 'strict')).packets_dropped === afterChange);
      const info = await customerLeg(strict, 'strict');
      assert.equal(info.remote, `${HOST}:${oldSocket.address().port}`);
      assert.equal(info.packets_received, before);
      await strict.control.endCall('strict');
    } finally {
      await strict.close();
    }
  });
});
