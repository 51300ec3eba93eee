/**
 * Recognition workers die mid-call, one by a native-style crash (abort():
 * SIGABRT, as a segfault in libpocketsphinx or libvosk would) and one by
 * exiting: the gateway process survives (workers are child processes), the
 * pool replaces them, the call's recognisers are re-created, the gap is marked
 * in the transcript, and the call's later intent still arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AsrWorkerPool } from '../../src/asr/pool/AsrWorkerPool.js';
import type { CodecSpec } from '../../src/audio/codecs/Codec.js';
import { renderCall, type RenderedCall } from '../../src/demo/speech.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const RATE = 16000;
const CODEC: CodecSpec = { name: 'L16', clockRate: RATE, payloadType: 96 };

let gw: TestGateway;
let events: EventRecorder;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 42400, rtpPortMax: 42419, asrWorkers: 2 });
  events = await EventRecorder.connect(gw.addresses.http.port);
});

after(async () => {
  events.close();
  await gw.close();
});

/** Starts a two-leg call and plays a three-turn script over RTP (ending with RTCP BYE); `gapMs` between turns. */
async function playCall(callId: string, gapMs: number): Promise<{ call: RenderedCall; sending: Promise<unknown> }> {
  const call = await renderCall(
    [
      { speaker: 'customer', text: 'Hello, I have a question about my invoice.' },
      { speaker: 'agent', text: 'Sure, go ahead.' },
      { speaker: 'customer', text: 'Actually, I want to cancel my order.' },
    ],
    { rate: RATE, gapMs },
  );
  const reply = await gw.control.startCall({
    call_id: callId,
    agent_id: 'a',
    queue: 'q',
    language: 'en-US',
    legs: [
      { role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_L16', clock_rate: RATE, payload_type: 96 },
      { role: 'LEG_ROLE_AGENT', codec: 'CODEC_L16', clock_rate: RATE, payload_type: 96 },
    ],
  });
  const sending = Promise.all(
    reply.legs.map((leg) =>
      RtpSender.sendPcm({
        codec: CODEC,
        destination: { address: leg.host, port: leg.rtp_port },
        rtcpPort: leg.rtcp_port,
        pcm: call.legs[leg.role === 'LEG_ROLE_CUSTOMER' ? 'customer' : 'agent'],
        sampleRate: RATE,
        bye: true,
      }),
    ),
  );
  return { call, sending };
}

describe('ASR supervision', () => {
  test('workers crashed (SIGABRT) or exited mid-call are replaced; the gap is marked and the later intent arrives', async () => {
    const { call, sending } = await playCall('crash', 3000);

    // After the first customer sentence, kill every recognition worker.
    await events.waitFor((e) => e.event.callId === 'crash' && e.event.type === 'transcript' && e.event.leg === 'customer' && e.event.final, 15_000, 'first final');
    const pool = gw.gateway.speech;
    assert.ok(pool instanceof AsrWorkerPool, 'the local pool (test hooks)');
    const restartsBefore = await metricValue(gw.metrics, 'sgw_asr_worker_restarts_total');
    assert.ok(pool.workerForTest(0)?.pid !== undefined, 'workers are processes by default');
    pool.simulateFailureForTest(0, 'crash');
    pool.simulateFailureForTest(1, 'exit');

    const gap = await events.waitFor((e) => e.event.callId === 'crash' && e.event.type === 'transcript.gap' && e.event.leg === 'customer', 10_000, 'gap marker');
    assert.equal(gap.event.type === 'transcript.gap' && gap.event.reason, 'asr-worker-restart');
    const intent = await events.waitFor((e) => e.event.callId === 'crash' && e.event.type === 'intent', 20_000, 'intent after the restart');
    assert.equal(intent.event.type === 'intent' && intent.event.intent, 'cancel_order');
    assert.ok(intent.receivedAt > gap.receivedAt);
    const third = call.turns[2];
    assert.ok(third && intent.event.type === 'intent' && Math.abs(intent.event.endMs - third.endMs) < 2000, 'times stay on the call timeline across the restart');

    await sending;
    const ended = await events.waitFor((e) => e.event.callId === 'crash' && e.event.type === 'call.ended', 10_000, 'call.ended');
    assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'rtcp-bye', 'the call itself went on to its normal end');
    assert.ok((await metricValue(gw.metrics, 'sgw_asr_worker_restarts_total')) >= restartsBefore + 2);
    assert.ok((await metricValue(gw.metrics, 'sgw_transcript_gaps_total', { reason: 'asr-worker-restart' })) >= 1);
  });

  test('workers that hang mid-call: every second not recognised lies inside a gap (backlog drops and the restart), and the call goes on', async () => {
    // Long pauses: the hang (about 12 s until the heartbeat gives up) falls before the last turn.
    const { sending } = await playCall('hang', 8000);
    await events.waitFor((e) => e.event.callId === 'hang' && e.event.type === 'transcript' && e.event.leg === 'customer' && e.event.final, 15_000, 'first final');
    const pool = gw.gateway.speech;
    assert.ok(pool instanceof AsrWorkerPool);
    const hungAt = Date.now();
    pool.simulateFailureForTest(0, 'hang', 30_000);
    pool.simulateFailureForTest(1, 'hang', 30_000);
    const restartsBefore = pool.health().restarts;
    const intent = await events.waitFor((e) => e.event.callId === 'hang' && e.event.type === 'intent', 40_000, 'intent after the hang');
    assert.equal(intent.event.type === 'intent' && intent.event.intent, 'cancel_order');
    const replacedAfterMs = Date.now() - hungAt;
    assert.ok(pool.health().restarts >= restartsBefore + 2, 'both hung workers were replaced');
    await sending;
    await events.waitFor((e) => e.event.callId === 'hang' && e.event.type === 'call.ended', 10_000, 'call.ended');

    const gaps = events.events.filter((e) => e.event.callId === 'hang' && e.event.type === 'transcript.gap' && e.event.leg === 'customer').map((e) => e.event);
    const spans = gaps.map((g): [number, number, string] => (g.type === 'transcript.gap' ? [g.startMs, g.endMs, g.reason] : [0, 0, '']));
    assert.ok(spans.some(([, , reason]) => reason === 'asr-backlog'), `the backlog bound dropped audio during the hang and said so: ${JSON.stringify(spans)}`);
    assert.ok(spans.some(([, , reason]) => reason === 'asr-worker-restart'), JSON.stringify(spans));
    // The workers heard nothing from the hang until their replacements were ready (at least the
    // heartbeat timeout, 10 s): the gaps must cover that stretch, not only the 5 s backlog.
    const sorted = [...spans].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1];
      const next = sorted[i];
      assert.ok(previous !== undefined && next !== undefined && Math.abs(next[0] - previous[1]) <= 50, `the gaps neither overlap nor leave holes: ${JSON.stringify(sorted)}`);
    }
    const covered = (sorted[sorted.length - 1]?.[1] ?? 0) - (sorted[0]?.[0] ?? 0);
    // The figure of issue #14, item 1: audio a hang kept from the recognisers against the gaps that say so.
    console.log(`# workers hung (replaced after the 10 s heartbeat timeout); gaps cover ${covered} ms of the leg contiguously (${sorted.length} gaps: ${[...new Set(sorted.map((g) => g[2]))].join(', ')}); the next intent came ${replacedAfterMs} ms after the hang began`);
    assert.ok(covered >= 9000, `gaps cover ${covered} ms of a hang of at least 10 s: ${JSON.stringify(sorted)}`);
    assert.ok(replacedAfterMs >= 10_000);
  });
});
