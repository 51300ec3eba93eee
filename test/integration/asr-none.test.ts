/**
 * `ASR=none`: the gateway terminates RTP (jitter buffer, decoding, levels,
 * DTMF, loss counters) but recognises nothing; the platform pushes its own
 * transcripts for the same call. The load test's ingest-only scenario runs
 * this way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let events: EventRecorder;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 44400, rtpPortMax: 44419, asr: 'none', rtpTimeoutMs: 5000 });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
});

describe('ASR=none', () => {
  test('RTP legs are received and counted, and pushed transcripts give intents on the same call', async () => {
    assert.equal(gw.gateway.engine, 'none');
    assert.equal(gw.gateway.speech, undefined, 'no speech service (no recognition workers) is started');
    // Any language: there is no model to have or lack.
    const reply = await gw.control.startCall({
      call_id: 'none-1',
      agent_id: 'agent-1',
      queue: 'orders',
      language: 'nl-NL',
      legs: [
        { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', clock_rate: 8000, payload_type: 0 },
        { role: 'LEG_ROLE_AGENT', codec: 'CODEC_PCMU', clock_rate: 8000, payload_type: 0 },
      ],
    });
    assert.equal(reply.legs.length, 2, 'media calls still get RTP ports');
    const customer = reply.legs.find((l) => l.role === 'LEG_ROLE_CUSTOMER');
    assert.ok(customer);
    const tone = new Int16Array(8000);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
    const sent = await RtpSender.sendPcm({ codec: { name: 'PCMU', clockRate: 8000, payloadType: 0 }, destination: { address: '127.0.0.1', port: customer.rtp_port }, rtcpPort: customer.rtcp_port, pcm: tone, sampleRate: 8000, bye: false });
    assert.equal(sent.packetsSent, 50);

    await new Promise<void>((resolve, reject) =>
      gw.control.raw.PushTranscript(
        { call_id: 'none-1', role: 'LEG_ROLE_CUSTOMER', text: 'ik wil mijn abonnement opzeggen', final: true, utterance_id: 0, start_ms: 200, end_ms: 1800 },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    const intent = await events.waitFor((e) => e.event.callId === 'none-1' && e.event.type === 'intent', 5000, 'intent from the pushed transcript');
    assert.equal(intent.event.type === 'intent' ? intent.event.intent : '', 'churn');

    const info = await gw.control.getCall('none-1');
    const legInfo = info.legs.find((l) => l.role === 'LEG_ROLE_CUSTOMER');
    assert.equal(legInfo?.packets_received, 50, 'every packet reached the leg');
    assert.equal(await metricValue(gw.metrics, 'sgw_rtp_packets_received_total', { leg: 'customer' }), 50);
    assert.equal(await metricValue(gw.metrics, 'sgw_asr_audio_seconds_total'), 0, 'nothing was recognised');
    await gw.control.endCall('none-1');
  });

  test('a transcribing gateway still refuses pushed transcripts on a media call', async () => {
    const other = await startTestGateway({ rtpPortMin: 44420, rtpPortMax: 44429, asrWorkers: 1 });
    try {
      await other.control.startCall({ call_id: 'asr-1', language: 'en-US', legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', clock_rate: 8000, payload_type: 0 }] });
      const err = await new Promise<ServiceError | null>((resolve) =>
        other.control.raw.PushTranscript({ call_id: 'asr-1', role: 'LEG_ROLE_CUSTOMER', text: 'cancel my order', final: true, utterance_id: 0, start_ms: 0, end_ms: 1000 }, (e) => resolve(e)),
      );
      assert.equal(err?.code, status.FAILED_PRECONDITION);
      assert.match(err.details, /ASR=none/);
      await other.control.endCall('asr-1');
    } finally {
      await other.close();
    }
  });
});
