/**
 * SIPREC end to end with a real SIP client: Debian's sipp runs an SRC
 * scenario (test/fixtures/sipp/siprec-src.xml) against the gateway's SIP
 * port over UDP: INVITE with multipart/mixed SDP (two sendonly audio
 * m-lines) and RFC 7865 rs-metadata, ACK, BYE. The test reads the ports of
 * the SDP answer from sipp's log and streams a synthesized call to them as
 * PCMU RTP: the agent's voice to the first m-line, the customer's to the
 * second (the metadata says so; SIPREC_LEGS=aor:^sip:agent- must map it,
 * where stream order would not). The customer's "cancel my order" must come
 * out as an intent on the customer leg on /v1/events; call.started and the
 * post-call record carry the SIP Call-ID, the session id and the AoRs, and
 * sipp's BYE ends the call with reason sip-bye.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { renderCall, type RenderedCall } from '../../src/demo/speech.js';
import type { CallSummary } from '../../src/events.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runSippSiprec } from '../helpers/sipp.js';

const RATE = 8000;
const AGENT_AOR = 'sip:agent-007@pbx.example.com';
const CUSTOMER_AOR = 'sip:+15551230001@carrier.example.net';
const SESSION_ID = 'hVpd7YQgRW2nD22h7q60JQ==';

let gw: TestGateway;
let events: EventRecorder;
let scratch: string;
let call: RenderedCall;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-siprec-'));
  gw = await startTestGateway({
    rtpPortMin: 49100,
    rtpPortMax: 49139,
    rtpTimeoutMs: 15_000,
    sipPort: 0,
    sipHost: '127.0.0.1',
    siprecAllow: ['127.0.0.1'],
    siprecLegs: { kind: 'aor', agent: /^sip:agent-/i },
    callRecordsFile: path.join(scratch, 'records.jsonl'),
  });
  events = await EventRecorder.connect(gw.addresses.http.port);
  call = await renderCall(
    [
      { speaker: 'agent', text: 'Thank you for calling, how can I help?' },
      { speaker: 'customer', text: 'Hello, I would like to cancel my order' },
      { speaker: 'agent', text: 'Certainly, one moment please.' },
    ],
    { rate: RATE, voices: { customer: 'slt', agent: 'rms' } },
  );
});

after(async () => {
  events.close();
  await gw.close();
  await rm(scratch, { recursive: true, force: true });
});

test('sipp records a call over SIPREC: the intent arrives on the customer leg, identifiers on call.started and the record, BYE ends it', { timeout: 90_000 }, async () => {
  const sipPort = gw.addresses.sipPort ?? assert.fail('SIP listener not started');
  const durationMs = (call.legs.customer.length / RATE) * 1000;
  const sipp = runSippSiprec({
    port: sipPort,
    transport: 'udp',
    // The audio, then time for the last final transcript before the BYE.
    holdMs: Math.round(durationMs) + 4000,
    keys: { session_id: SESSION_ID, customer_aor: CUSTOMER_AOR, agent_aor: AGENT_AOR },
    dir: scratch,
  });
  const [firstPort, secondPort] = await sipp.answeredPorts;
  const started = await events.waitFor((e) => e.event.type === 'call.started' && e.event.siprec !== undefined, 10_000, 'call.started of the SIPREC call');
  const callId = started.event.callId;
  const codec = { name: 'PCMU', clockRate: 8000, payloadType: 0 } as const;
  // RTCP BYE is not sent: the SIP BYE is what ends a SIPREC call.
  await Promise.all([
    RtpSender.sendPcm({ codec, destination: { address: '127.0.0.1', port: firstPort }, pcm: call.legs.agent, sampleRate: RATE, bye: false }),
    RtpSender.sendPcm({ codec, destination: { address: '127.0.0.1', port: secondPort }, pcm: call.legs.customer, sampleRate: RATE, bye: false }),
  ]);
  const exitCode = await sipp.exit;
  assert.equal(exitCode, 0, `sipp failed: ${sipp.output()}`);

  const ended = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.ended', 10_000, 'call.ended');
  assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'sip-bye');

  const intents = events.forCall(callId).filter((e) => e.type === 'intent');
  const cancel = intents.find((e) => e.type === 'intent' && e.intent === 'cancel_order');
  const finals = events.forCall(callId).filter((e) => e.type === 'transcript' && e.final).map((e) => (e.type === 'transcript' ? `${e.leg}: ${e.text}` : ''));
  assert.ok(cancel !== undefined, `no cancel_order intent; transcripts: ${finals.join(' | ')}`);
  assert.equal(cancel.type === 'intent' && cancel.leg, 'customer', 'the intent must be on the customer leg');

  // The legs are where the answer put them: the first m-line is the agent's stream.
  const s = started.event;
  assert.equal(s.type, 'call.started');
  if (s.type !== 'call.started') return;
  const port = (role: string): number | undefined => s.legs.find((l) => l.role === role)?.rtpPort;
  assert.equal(port('agent'), firstPort, 'the agent stream (m-line 1) is the agent leg');
  assert.equal(port('customer'), secondPort, 'the customer stream (m-line 2) is the customer leg');
  assert.deepEqual(s.legs.map((l) => l.codec), ['PCMU', 'PCMU']);
  assert.equal(s.agentId, 'agent-007', 'agent id from the agent participant AoR');
  assert.equal(s.queue, 'siprec');
  assert.ok(s.siprec !== undefined);
  assert.match(s.siprec.sipCallId, /\S+@127\.0\.0\.1$/);
  assert.equal(s.siprec.sessionId, SESSION_ID);
  assert.deepEqual(
    [...s.siprec.participants].sort((a, b) => a.aor.localeCompare(b.aor)),
    [
      { aor: CUSTOMER_AOR, name: 'Pat Customer', leg: 'customer' },
      { aor: AGENT_AOR, name: 'Agent Seven', leg: 'agent' },
    ].sort((a, b) => a.aor.localeCompare(b.aor)),
  );

  const summary = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 10_000, 'call.summary');
  assert.deepEqual(summary.event.type === 'call.summary' && summary.event.summary.siprec, s.siprec);
  await gw.gateway.close();
  const records = (await readFile(path.join(scratch, 'records.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as CallSummary);
  const record = records.find((r) => r.callId === callId) ?? assert.fail('no post-call record');
  assert.equal(record.primaryContactReason, 'cancel_order');
  assert.deepEqual(record.siprec, s.siprec);
  assert.equal(await metricValue(gw.metrics, 'sgw_sip_responses_total', { method: 'INVITE', status: '200' }), 1);
  assert.equal(await metricValue(gw.metrics, 'sgw_sip_responses_total', { method: 'BYE', status: '200' }), 1);
  console.log(`# SIPREC call ${callId}: ${finals.join(' | ')}`);
});
