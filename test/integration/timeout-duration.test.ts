/**
 * A call ended by a timeout lasted until its last media, not until the
 * timeout noticed: `durationMs` of `call.ended`, `call.summary` and GetCall
 * leave out the RTP_TIMEOUT_MS tail. Real RTP from a real UDP socket; a
 * transcripts-only call fed by PushTranscript.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { EventRecorder, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TIMEOUT_MS = 1500;
/** Event-loop and watchdog slack on either side of a measured time. */
const SLACK_MS = 300;

let gw: TestGateway;
let events: EventRecorder;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 46520, rtpPortMax: 46523, rtpTimeoutMs: TIMEOUT_MS, asr: 'none' });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
});

/** call.ended and call.summary durations of `callId`, once it has ended. */
async function durations(callId: string): Promise<{ reason: string; ended: number; summary: number; getCall: number }> {
  const ended = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', TIMEOUT_MS + 5000, `call.ended of ${callId}`);
  const summary = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 2000, `call.summary of ${callId}`);
  assert.ok(ended.event.type === 'call.ended' && summary.event.type === 'call.summary');
  return { reason: ended.event.reason, ended: ended.event.durationMs, summary: summary.event.summary.durationMs, getCall: (await gw.control.getCall(callId)).duration_ms };
}

describe('a timed-out call ends at its last media', () => {
  test('rtp-timeout: 1 s of RTP, then nothing; durationMs is about 1 s, not 1 s + the timeout', async () => {
    const startedAt = Date.now();
    const reply = await gw.control.startCall({ call_id: 'dur-rtp', agent_id: 'a', queue: 'q', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' }] });
    const leg = reply.legs[0];
    assert.ok(leg);
    await sleep(200);
    const tone = Int16Array.from({ length: 8000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 400 * i) / 8000)));
    await RtpSender.sendPcm({ codec: { name: 'PCMU', clockRate: 8000, payloadType: 0 }, destination: { address: leg.host, port: leg.rtp_port }, pcm: tone, sampleRate: 8000, bye: false });
    const mediaMs = Date.now() - startedAt;
    const noticedAfter = Date.now();

    const d = await durations('dur-rtp');
    const noticedMs = Date.now() - noticedAfter;
    assert.equal(d.reason, 'rtp-timeout');
    assert.ok(noticedMs >= TIMEOUT_MS - SLACK_MS, `the timeout fired ${noticedMs} ms after the last packet`);
    assert.ok(d.ended <= mediaMs + SLACK_MS && d.ended >= mediaMs - SLACK_MS, `durationMs ${d.ended}, media until ${mediaMs} ms (the timeout tail is ${TIMEOUT_MS} ms)`);
    assert.equal(d.summary, d.ended, 'call.summary agrees');
    assert.equal(d.getCall, d.ended, 'GetCall agrees');
  });

  test('inactivity-timeout: a transcripts-only call ends at its last push', async () => {
    const startedAt = Date.now();
    await gw.control.startCall({ call_id: 'dur-push', agent_id: 'a', queue: 'q', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    await sleep(500);
    // Sent, not answered: the answer waits for the push's analytics (the phonetic lexicon loads on first use).
    const lastPushMs = Date.now() - startedAt;
    await new Promise<void>((resolve, reject) =>
      gw.control.raw.PushTranscript({ call_id: 'dur-push', role: 'LEG_ROLE_CUSTOMER', text: 'hello', final: true, utterance_id: 1, start_ms: 0, end_ms: 400 }, (err) => (err ? reject(err) : resolve())),
    );

    const d = await durations('dur-push');
    assert.equal(d.reason, 'inactivity-timeout');
    assert.ok(d.ended <= lastPushMs + SLACK_MS && d.ended >= lastPushMs - SLACK_MS, `durationMs ${d.ended}, last push at ${lastPushMs} ms`);
    assert.equal(d.summary, d.ended);
  });
});
