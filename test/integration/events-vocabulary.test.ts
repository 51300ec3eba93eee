/**
 * The event vocabulary on a real gateway: every type of the one list
 * (EVENT_TYPES, which docs/events.md is checked against) is a valid `types=`
 * filter, `types=dtmf` delivers the DTMF keyed on a real RTP leg, and an empty
 * or unknown filter is refused with 4400 instead of silently delivering
 * nothing. Intents name the utterance they were heard in.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { EVENT_TYPES } from '../../src/events.js';
import { EventRecorder, startTestGateway, type ReceivedEvent, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let port: number;

before(async () => {
  gw = await startTestGateway({ rtpPortMin: 47740, rtpPortMax: 47749, asr: 'none', rtpTimeoutMs: 10_000 });
  port = gw.addresses.http.port;
});

after(async () => {
  await gw.close();
});

const kind = (e: ReceivedEvent): string => e.event.type;

describe('event types', { timeout: 30_000 }, () => {
  test('every listed type is accepted as a filter; types=dtmf gets the DTMF of a real RTP leg and nothing else', async () => {
    // Accepted: each such connection gets its first heartbeat instead of a close.
    const probes = await Promise.all(EVENT_TYPES.map((type) => EventRecorder.connect(port, `?types=${type}&heartbeat=1`)));
    await Promise.all(probes.map((probe, i) => probe.waitFor((e) => kind(e) === 'heartbeat', 3000, `a heartbeat on types=${EVENT_TYPES[i]}`)));
    for (const probe of probes) probe.close();

    const witness = await EventRecorder.connect(port);
    const dtmfOnly = await EventRecorder.connect(port, '?types=dtmf');
    const reply = await gw.control.startCall({
      call_id: 'keys',
      agent_id: 'agent-1',
      queue: 'orders',
      language: 'en-US',
      legs: [{ role: 'LEG_ROLE_CUSTOMER', codec: 'CODEC_PCMU', clock_rate: 8000, payload_type: 0, telephone_event_payload_type: 101 }],
    });
    const leg = reply.legs[0] ?? assert.fail('no leg');
    const sender = new RtpSender({ codec: { name: 'PCMU', clockRate: 8000, payloadType: 0 }, destination: { address: '127.0.0.1', port: leg.rtp_port } });
    try {
      await sender.send(new Int16Array(1600), 8000);
      for (const digit of ['1', '2', '#']) await sender.sendDtmf(digit, { durationMs: 80 });
      await sender.sendBye();
    } finally {
      await sender.close();
    }
    await witness.waitFor((e) => e.event.callId === 'keys' && kind(e) === 'call.summary', 10_000, 'the end of the call');
    const keyed = witness.events.filter((e) => kind(e) === 'dtmf');
    assert.deepEqual(
      keyed.map((e) => (e.event.type === 'dtmf' ? e.event.digit : '')),
      ['1', '2', '#'],
    );
    await dtmfOnly.waitFor((e) => e.event.eventId === keyed.at(-1)?.event.eventId, 2000, 'the last key');
    assert.deepEqual(
      dtmfOnly.events.map((e) => e.event.eventId),
      keyed.map((e) => e.event.eventId),
      'exactly the dtmf events',
    );
    for (const client of [witness, dtmfOnly]) client.close();
  });

  test('an empty, incomplete or unknown types= is refused with 4400 and a reason that says which', async () => {
    const cases: [string, RegExp][] = [
      ['types=', /types is empty/],
      ['types=dtmf,', /empty entry/],
      ['types=,dtmf', /empty entry/],
      ['types=dtfm', /unknown event type in types: dtfm/],
      // A reason longer than a close frame allows (123 bytes) is cut, not a failed close.
      [`types=${encodeURIComponent('€'.repeat(40))}`, /unknown event type in types: €/],
    ];
    for (const [query, reason] of cases) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?${query}`);
      const [code, why] = (await once(ws, 'close')) as [number, Buffer];
      assert.equal(code, 4400, query);
      assert.match(why.toString('utf8'), reason, query);
    }
  });
});

describe('intent events', { timeout: 30_000 }, () => {
  test('carry the utteranceId of the transcript they were found in', async () => {
    const events = await EventRecorder.connect(port, '?callId=tie&types=transcript,intent');
    await gw.control.startCall({ call_id: 'tie', agent_id: 'agent-1', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
    const push = (utteranceId: number, text: string, final: boolean) =>
      new Promise<void>((resolve, reject) =>
        gw.control.raw.PushTranscript(
          { call_id: 'tie', role: 'LEG_ROLE_CUSTOMER', text, final, utterance_id: utteranceId, start_ms: utteranceId * 3000, end_ms: utteranceId * 3000 + 2000 },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    await push(7, 'i want to cancel my', false);
    await push(7, 'i want to cancel my order', false);
    await push(7, 'i want to cancel my order please', true);
    await push(8, 'and where is my order', true);
    await events.waitFor((e) => kind(e) === 'intent' && e.event.type === 'intent' && e.event.intent === 'order_status', 2000, 'the second intent');
    const intents = events.events.flatMap((e) => (e.event.type === 'intent' ? [e.event] : []));
    assert.deepEqual(
      intents.map((i) => [i.intent, i.partial, i.utteranceId]),
      [
        ['cancel_order', true, 7],
        ['order_status', false, 8],
      ],
    );
    // The same id the transcript events of those words carry.
    for (const intent of intents) {
      assert.ok(
        events.events.some((e) => e.event.type === 'transcript' && e.event.utteranceId === intent.utteranceId && e.event.text.includes(intent.text)),
        `a transcript of utterance ${intent.utteranceId} with "${intent.text}"`,
      );
    }
    await gw.control.endCall('tie');
    events.close();
  });
});
