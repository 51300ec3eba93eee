/**
 * The SIPREC recording server's answers to what SRCs send, over real UDP and
 * TCP sockets (the gateway runs with ASR=none: no recognition is needed to
 * check SIP): OPTIONS; the 4xx of each kind of bad request (403 for a source
 * outside SIPREC_ALLOW, 420, 415, 488, 400, 481, 405, 501); a datagram that
 * is not SIP dropped and counted; a session over TCP with a re-INVITE whose
 * metadata update reaches the post-call record, ended by gRPC EndCall, which
 * the gateway passes on to the SRC as a BYE; and, draining, 503 with
 * Retry-After.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { SipTestClient, rsMetadata, siprecBody, sipRequest, srcOffer } from '../helpers/clients/sip.js';

let gw: TestGateway;
let events: EventRecorder;
let port: number;
let udp: SipTestClient;

const PCMU = { formats: '0 101', rtpmaps: ['0 PCMU/8000', '101 telephone-event/8000'] };

before(async () => {
  gw = await startTestGateway({
    rtpPortMin: 49200,
    rtpPortMax: 49239,
    rtpTimeoutMs: 30_000,
    asr: 'none',
    sipPort: 0,
    sipHost: '127.0.0.1',
    siprecAllow: ['127.0.0.1'],
    siprecLegs: { kind: 'label', customer: 'cust', agent: 'agt' },
  });
  port = gw.addresses.sipPort ?? assert.fail('SIP listener not started');
  events = await EventRecorder.connect(gw.addresses.http.port);
  udp = await SipTestClient.udp(port);
});

after(async () => {
  udp.close();
  events.close();
  await gw.close();
});

function invite(client: SipTestClient, callId: string, overrides: { headers?: string[]; contentType?: string; body?: string } = {}): string {
  const { contentType, body } = siprecBody(srcOffer([{ label: 'agt', ...PCMU }, { label: 'cust', ...PCMU }]), rsMetadata('c2Vzc2lvbg==', [{ aor: 'sip:agent-1@pbx', label: 'agt' }, { aor: 'sip:caller@carrier', label: 'cust' }]));
  return sipRequest(client, port, { method: 'INVITE', callId, contentType: overrides.contentType ?? contentType, body: overrides.body ?? body, headers: ['Require: siprec', ...(overrides.headers ?? [])] });
}

describe('SIPREC over real sockets', () => {
  test('OPTIONS is answered 200 with what the SRS allows and accepts', async () => {
    const response = await udp.request(sipRequest(udp, port, { method: 'OPTIONS', callId: 'options-1' }));
    assert.equal(response.status, 200);
    assert.match(response.header('allow') ?? '', /INVITE.*BYE/);
    assert.match(response.header('accept') ?? '', /multipart\/mixed/);
    assert.equal(response.header('call-id'), 'options-1');
  });

  test('an INVITE from a source outside SIPREC_ALLOW gets 403 and starts no call', async () => {
    const stranger = await SipTestClient.udp(port, '127.0.0.2');
    try {
      const response = await stranger.request(invite(stranger, 'forbidden-1'));
      assert.equal(response.status, 403);
      assert.match(response.header('to') ?? '', /;tag=/);
    } finally {
      stranger.close();
    }
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'siprec', reason: 'forbidden_source' }), 1);
  });

  test('bad requests get their 4xx', async () => {
    const refused = async (text: string): Promise<{ status: number | undefined; text: string }> => {
      const response = await udp.request(text);
      return { status: response.status, text: response.raw };
    };
    const unknownRequire = await refused(invite(udp, 'require-1', { headers: ['Require: 100rel'] }));
    assert.equal(unknownRequire.status, 420);
    assert.match(unknownRequire.text, /\r\nUnsupported: 100rel\r\n/);
    assert.equal((await refused(invite(udp, 'json-1', { contentType: 'application/json', body: '{}' }))).status, 415);
    const noCodec = siprecBody(srcOffer([{ label: 'agt', formats: '18', rtpmaps: ['18 G729/8000'] }, { label: 'cust', formats: '0', rtpmaps: ['0 PCMU/8000'], protocol: 'RTP/SAVP' }]), rsMetadata('x', []));
    const notAcceptable = await refused(invite(udp, 'g729-1', noCodec));
    assert.equal(notAcceptable.status, 488);
    assert.match(notAcceptable.text, /Warning: 304 speech-gateway ".*G729|SAVP/);
    const badXml = siprecBody(srcOffer([{ label: 'agt', ...PCMU }]), '<recording><participant></recording>');
    assert.equal((await refused(invite(udp, 'xml-1', badXml))).status, 400);
    const badBoundary = siprecBody(srcOffer([{ label: 'agt', ...PCMU }]), rsMetadata('x', []));
    assert.equal((await refused(invite(udp, 'boundary-1', { contentType: 'multipart/mixed;boundary=other', body: badBoundary.body }))).status, 400);
    assert.equal((await refused(sipRequest(udp, port, { method: 'BYE', callId: 'nobody-1', toTag: 'x' }))).status, 481);
    assert.equal((await refused(sipRequest(udp, port, { method: 'MESSAGE', callId: 'message-1' }))).status, 405);
    assert.equal((await refused(sipRequest(udp, port, { method: 'FROBNICATE', callId: 'frob-1' }))).status, 501);
    // A header line without a colon: the request can still be answered, with 400.
    const broken = sipRequest(udp, port, { method: 'OPTIONS', callId: 'broken-1' }).replace('Max-Forwards: 70', 'Max-Forwards 70');
    const badRequest = await refused(broken);
    assert.equal(badRequest.status, 400);
    assert.match(badRequest.text, /^SIP\/2\.0 400 Bad Request \(bad header line/);
    assert.equal(gw.gateway.drainStatus.activeCalls, 0, 'no call started');
  });

  test('a datagram that is not SIP is dropped and counted; the listener goes on', async () => {
    const before = await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'siprec', reason: 'bad_message' });
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.send(Buffer.from([0x80, 0x00, 0xff, 0x13, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]), port, '127.0.0.1', () => resolve()));
    socket.close();
    const response = await udp.request(sipRequest(udp, port, { method: 'OPTIONS', callId: 'after-garbage' }));
    assert.equal(response.status, 200);
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'siprec', reason: 'bad_message' }), before + 1);
  });

  test('over TCP: a session by label, a re-INVITE with new metadata, EndCall sends the SRC a BYE', async () => {
    const tcp = await SipTestClient.tcp(port);
    try {
      const ok = await tcp.request(invite(tcp, 'tcp-session-1', { headers: ['Supported: timer', 'Session-Expires: 1800'] }));
      assert.equal(ok.status, 200, ok.raw);
      assert.equal(ok.header('session-expires'), '1800;refresher=uac', 'the SRC refreshes the session (RFC 4028)');
      assert.equal(ok.header('content-type'), 'application/sdp');
      const ports = [...ok.body.matchAll(/m=audio (\d+) RTP\/AVP 0 101/g)].map((m) => Number(m[1]));
      assert.equal(ports.length, 2, ok.body);
      assert.match(ok.body, /a=recvonly/);
      const toTag = /;tag=([^;\s]+)/.exec(ok.header('to') ?? '')?.[1] ?? assert.fail('no To tag');
      tcp.send(sipRequest(tcp, port, { method: 'ACK', callId: 'tcp-session-1', toTag }));
      const started = await events.waitFor((e) => e.event.type === 'call.started' && e.event.siprec?.sipCallId === 'tcp-session-1', 5000, 'call.started');
      const callId = started.event.callId;
      if (started.event.type !== 'call.started') return;
      // label rule: the stream labelled agt (m-line 1) is the agent, cust (m-line 2) the customer.
      assert.deepEqual(Object.fromEntries(started.event.legs.map((l) => [l.role, l.rtpPort])), { agent: ports[0], customer: ports[1] });
      assert.equal(started.event.agentId, 'agent-1');

      // re-INVITE: same streams, the customer participant now known by another AoR.
      const update = siprecBody(srcOffer([{ label: 'agt', ...PCMU }, { label: 'cust', ...PCMU }]), rsMetadata('c2Vzc2lvbg==', [{ aor: 'sip:agent-1@pbx', label: 'agt' }, { aor: 'sip:+31201234567@carrier', label: 'cust' }]));
      const reOk = await tcp.request(sipRequest(tcp, port, { method: 'INVITE', callId: 'tcp-session-1', cseq: 2, toTag, contentType: update.contentType, body: update.body }));
      assert.equal(reOk.status, 200);
      assert.deepEqual([...reOk.body.matchAll(/m=audio (\d+)/g)].map((m) => Number(m[1])), ports, 'a re-INVITE keeps the ports');
      assert.match(reOk.body, /^o=speech-gateway \d+ 2 /m, 'the answer is a new version');
      tcp.send(sipRequest(tcp, port, { method: 'ACK', callId: 'tcp-session-1', cseq: 2, toTag }));

      await gw.control.endCall(callId);
      const bye = await tcp.waitFor((m) => m.method === 'BYE', 5000, 'the gateway BYE');
      assert.equal(bye.header('call-id'), 'tcp-session-1');
      assert.match(bye.header('from') ?? '', new RegExp(`;tag=${toTag}`));
      assert.match(bye.header('to') ?? '', /;tag=src-tag/);
      const summary = await events.waitFor((e) => e.event.callId === callId && e.event.type === 'call.summary', 5000, 'call.summary');
      assert.ok(summary.event.type === 'call.summary');
      if (summary.event.type !== 'call.summary') return;
      assert.deepEqual(summary.event.summary.siprec?.participants.map((p) => [p.aor, p.leg]), [
        ['sip:agent-1@pbx', 'agent'],
        ['sip:+31201234567@carrier', 'customer'],
      ]);
      assert.equal(summary.event.summary.endReason, 'ended-by-request');
    } finally {
      tcp.close();
    }
  });

  test('draining: an INVITE gets 503 with Retry-After', async () => {
    gw.gateway.drain('admin', 'test');
    const response = await udp.request(invite(udp, 'drain-1'));
    assert.equal(response.status, 503);
    assert.match(response.startLine, /SGW_DRAINING/);
    assert.ok(Number(response.header('retry-after')) > 0);
    assert.equal(await metricValue(gw.metrics, 'sgw_drain_refusals_total', { protocol: 'siprec' }), 1);
  });
});
