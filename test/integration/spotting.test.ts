/**
 * Phrase spotting on a telephone call end to end: gRPC StartCall with PCMU
 * legs, ffmpeg streaming 8 kHz mu-law RTP, pocketsphinx keyword spotting
 * through the telephone profile (upsampling + high-band fill), intents on
 * /v1/events with `source: 'spotter'`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderCall } from '../../src/demo/speech.js';
import { streamWithFfmpeg } from '../helpers/ffmpeg.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('phrase spotting on 8 kHz PCMU legs (ASR_MODE=spot)', () => {
  let gw: TestGateway;
  let events: EventRecorder;
  let scratch: string;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'sgw-spot-'));
    gw = await startTestGateway({ rtpPortMin: 43300, rtpPortMax: 43339, rtpTimeoutMs: 10_000, asrMode: 'spot' });
    events = await EventRecorder.connect(gw.addresses.http.port);
  });
  after(async () => {
    events.close();
    await gw.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('the customer asking for a manager on a mu-law line raises speak_to_manager from the spotter', async () => {
    const call = await renderCall(
      [
        { speaker: 'agent', text: 'Thank you for calling, how can I help?' },
        { speaker: 'customer', text: 'This is ridiculous. I want to speak to your manager.' },
        { speaker: 'agent', text: 'One moment please.' },
      ],
      { rate: 8000, voices: { customer: 'rms', agent: 'slt' } },
    );
    const callId = 'spot-manager';
    const reply = await gw.control.startCall({
      call_id: callId,
      agent_id: 'agent-1',
      queue: 'orders',
      language: 'en-US',
      legs: [
        { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU' },
        { role: 'LEG_ROLE_AGENT', codec: 'CODEC_PCMU' },
      ],
    });
    const port = (role: string): number => reply.legs.find((l) => l.role === role)?.rtp_port ?? assert.fail(`no ${role} leg`);
    const intent = events.waitFor((e) => e.event.callId === callId && e.event.type === 'intent' && e.event.intent === 'speak_to_manager', 40_000, 'speak_to_manager');
    await Promise.all(
      (['customer', 'agent'] as const).map((role) =>
        streamWithFfmpeg({ pcm: call.legs[role], sampleRate: 8000, codec: 'PCMU', port: port(`LEG_ROLE_${role.toUpperCase()}`), payloadType: 0, wavPath: path.join(scratch, `${role}.wav`) }),
      ),
    );
    const received = await intent;
    await gw.control.endCall(callId);

    assert.equal(received.event.type, 'intent');
    if (received.event.type !== 'intent') return;
    assert.equal(received.event.source, 'spotter');
    assert.equal(received.event.leg, 'customer');
    // Call time of the phrase: inside the customer's turn.
    const turn = call.turns[1];
    assert.ok(turn && received.event.startMs >= turn.startMs - 500 && received.event.endMs <= turn.endMs + 1500, `${received.event.startMs}-${received.event.endMs} vs turn ${turn?.startMs}-${turn?.endMs}`);
    // Spotting alone produces no free transcript.
    assert.equal(events.events.filter((e) => e.event.callId === callId && e.event.type === 'transcript').length, 0);
    assert.ok((await metricValue(gw.metrics, 'sgw_spot_hits_total', { outcome: 'intent', language: 'en-US' })) >= 1);
  });
});
