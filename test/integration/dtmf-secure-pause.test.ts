/**
 * DTMF and the secure pause end to end: our RtpSender streams a customer leg
 * (L16 16 kHz) with RFC 4733 telephone-events in the same RTP stream. The
 * gateway runs with SECURE_PAUSE_DTMF=*7,#: `*7` suspends recognition, the
 * customer speaks card-like words and keys a digit, `#` resumes. Expected on
 * /v1/events: the keys as `dtmf` events (masked during the pause), a
 * `transcript.gap` with reason secure-pause, no transcript or intent from the
 * words spoken during the pause, and recognition working again after it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { synthesize } from '../../src/demo/speech.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import type { CodecSpec } from '../../src/audio/codecs/index.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const RATE = 16000;
const L16: CodecSpec = { name: 'L16', clockRate: RATE, payloadType: 96 };

let gw: TestGateway;
let events: EventRecorder;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 43550, rtpPortMax: 43599, rtpTimeoutMs: 10_000, securePauseDtmf: { start: '*7', stop: '#' } });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
});

async function startCall(callId: string): Promise<RtpSender> {
  const reply = await gw.control.startCall({
    call_id: callId,
    agent_id: 'agent-1',
    queue: 'orders',
    language: 'en-US',
    legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: RATE, payload_type: 96, telephone_event_payload_type: 101 }],
  });
  const port = reply.legs[0]?.rtp_port ?? assert.fail('no leg');
  return new RtpSender({ codec: L16, destination: { address: '127.0.0.1', port } });
}

function pad(pcm: Int16Array, seconds = 0.6): Int16Array {
  const out = new Int16Array(pcm.length + Math.round(seconds * RATE) * 2);
  out.set(pcm, Math.round(seconds * RATE));
  return out;
}

describe('DTMF and secure pause', () => {
  test('*7 pauses (card words and digits not transcribed, digits masked), # resumes with a transcript.gap', { timeout: 80_000 }, async () => {
    const callId = 'dtmf-secure';
    const [before, secret, afterwards] = await Promise.all([
      synthesize('Hello, I need to check my account please', { voice: 'slt', rate: RATE }),
      synthesize('I would like to cancel my order, my card number is four five six seven', { voice: 'slt', rate: RATE }),
      synthesize('Thank you. I want to speak to your manager', { voice: 'slt', rate: RATE }),
    ]);
    const sender = await startCall(callId);
    try {
      await sender.send(pad(before), RATE);
      await events.waitFor((e) => e.event.callId === callId && e.event.type === 'transcript' && e.event.final, 15_000, 'transcript before the pause');
      await sender.sendDtmf('*', { durationMs: 100 });
      await sender.sendDtmf('7', { durationMs: 100 });
      await events.waitFor((e) => e.event.callId === callId && e.event.type === 'dtmf' && e.event.digit === '7', 5000, 'the 7');
      await sender.send(pad(secret), RATE);
      await sender.sendDtmf('4', { durationMs: 80 });
      await sender.send(pad(new Int16Array(0), 0.5), RATE);
      await sender.sendDtmf('#', { durationMs: 100 });
      const gap = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'transcript.gap', 5000, 'transcript.gap');
      await sender.send(pad(afterwards), RATE);
      await events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent' && e.event.intent === 'speak_to_manager', 20_000, 'speak_to_manager after the pause');
      await sender.sendBye();
      await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 10_000, 'call.ended');

      assert.equal(gap.event.type === 'transcript.gap' && gap.event.reason, 'secure-pause');
      const mine = events.forCall(callId);
      const dtmf = mine.filter((e) => e.type === 'dtmf');
      assert.deepEqual(
        dtmf.map((e) => (e.type === 'dtmf' ? [e.leg, e.digit] : [])),
        [
          ['customer', '*'],
          ['customer', '7'],
          ['customer', null],
          ['customer', null],
        ],
        'keys before the pause in clear, the card digit and the stop key masked',
      );
      const transcripts = mine.filter((e) => e.type === 'transcript').map((e) => (e.type === 'transcript' ? e.text : ''));
      console.log(`# transcripts: ${JSON.stringify(transcripts)}`);
      for (const text of transcripts) {
        assert.doesNotMatch(text, /cancel|card|four|five|six|seven/, 'nothing said during the pause is transcribed');
      }
      assert.ok(!mine.some((e) => e.type === 'intent' && e.intent === 'cancel_order'), 'no intent from the paused words');
      // The words around the pause were transcribed, and DTMF never became transcript.
      assert.ok(transcripts.some((t) => /manager/.test(t)), JSON.stringify(transcripts));
      assert.equal(await metricValue(gw.metrics, 'sgw_rtp_telephone_events_total', { outcome: 'digit' }), 4);
      const info = (await gw.control.getCall(callId)).legs[0];
      assert.equal(Number(info?.packets_lost), 0, 'telephone-events are not loss');
    } finally {
      await sender.close();
    }
  });

  test('SetRecognitionPaused over gRPC pauses and resumes one call with a gap', { timeout: 30_000 }, async () => {
    const callId = 'grpc-pause';
    const sender = await startCall(callId);
    const call = <T>(paused: boolean, role: 'LEG_ROLE_UNSPECIFIED' | 'LEG_ROLE_CUSTOMER' | 'LEG_ROLE_AGENT' = 'LEG_ROLE_UNSPECIFIED', id = callId) =>
      new Promise<T>((resolve, reject) =>
        gw.control.raw.SetRecognitionPaused({ call_id: id, paused, role }, (err, res) => (err || !res ? reject(err ?? new Error('empty')) : resolve(res as T))),
      );
    try {
      const sending = sender.send(new Int16Array(RATE * 2), RATE);
      await new Promise((r) => setTimeout(r, 300));
      const paused = await call<{ call: { legs: { role: string }[] } }>(true, 'LEG_ROLE_CUSTOMER');
      assert.equal(paused.call.legs.length, 1);
      await new Promise((r) => setTimeout(r, 500));
      await call(false);
      const gap = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'transcript.gap', 5000, 'gap');
      assert.equal(gap.event.type === 'transcript.gap' && gap.event.reason, 'secure-pause');
      assert.ok(gap.event.type === 'transcript.gap' && gap.event.endMs - gap.event.startMs >= 300);
      await assert.rejects(call(true, 'LEG_ROLE_UNSPECIFIED', 'no-such-call'), (err: { code?: number }) => err.code === 5); // NOT_FOUND
      await assert.rejects(
        gw.control.startCall({ call_id: 'bad-te', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', telephone_event_payload_type: 13 }] }),
        (err: { code?: number; details?: string }) => err.code === 3 && /^legs\[0\]\.telephone_event_payload_type: /.test(err.details ?? ''),
      );
      await sending;
    } finally {
      await sender.close();
      await gw.control.endCall(callId);
    }
  });
});
