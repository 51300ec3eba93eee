/**
 * SIPREC with digest authentication (SIPREC_DIGEST) and authentication on
 * (a JWT key), SIPREC_ALLOW empty: sipp answers the gateway's 401 challenge
 * with its -au/-ap credentials (RFC 3261 §22) and records a session that a
 * BYE ends; an INVITE with wrong credentials gets 403 and starts nothing;
 * one without credentials gets the challenge.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { SipTestClient, rsMetadata, siprecBody, sipRequest, srcOffer } from '../helpers/clients/sip.js';
import { TEST_SECRET, hsToken } from '../helpers/auth.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { SIPREC_DIGEST_SCENARIO, runSippSiprec } from '../helpers/sipp.js';

const CREDENTIALS = { username: 'recorder', password: 'correct horse battery staple' };

let gw: TestGateway;
let events: EventRecorder;
let port: number;
let scratch: string;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-siprec-digest-'));
  gw = await startTestGateway({ rtpPortMin: 49400, rtpPortMax: 49419, asr: 'none', sipPort: 0, sipHost: '127.0.0.1', siprecDigest: CREDENTIALS, jwtSecret: TEST_SECRET });
  port = gw.addresses.sipPort ?? assert.fail('SIP listener not started');
  events = await EventRecorder.connect(gw.addresses.http.port, `?access_token=${await hsToken({ role: 'admin', subject: 'test' })}`);
});

after(async () => {
  events.close();
  await gw.close();
  await rm(scratch, { recursive: true, force: true });
});

test('sipp answers the digest challenge and records a session', { timeout: 30_000 }, async () => {
  const sipp = runSippSiprec({ port, transport: 'udp', holdMs: 500, keys: {}, dir: scratch, scenario: SIPREC_DIGEST_SCENARIO, auth: CREDENTIALS });
  assert.equal(await sipp.exit, 0, `sipp failed: ${sipp.output()}`);
  const started = await events.waitFor((e) => e.event.type === 'call.started' && e.event.siprec?.sessionId === 'ZGlnZXN0', 5000, 'call.started');
  const ended = await events.waitFor((e) => e.event.callId === started.event.callId && e.event.type === 'call.ended', 5000, 'call.ended');
  assert.equal(ended.event.type === 'call.ended' && ended.event.reason, 'sip-bye');
  assert.equal(await metricValue(gw.metrics, 'sgw_sip_responses_total', { method: 'INVITE', status: '401' }), 1);
  assert.equal(await metricValue(gw.metrics, 'sgw_sip_responses_total', { method: 'INVITE', status: '200' }), 1);
});

test('without credentials the INVITE is challenged; with wrong ones it is refused 403', async () => {
  const client = await SipTestClient.udp(port);
  try {
    const { contentType, body } = siprecBody(srcOffer([{ label: '1', formats: '0', rtpmaps: ['0 PCMU/8000'] }]), rsMetadata('x', []));
    const challenge = await client.request(sipRequest(client, port, { method: 'INVITE', callId: 'digest-1', contentType, body }));
    assert.equal(challenge.status, 401);
    const www = challenge.header('www-authenticate') ?? assert.fail('no WWW-Authenticate');
    assert.match(www, /^Digest realm="speech-gateway", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    const nonce = /nonce="([^"]+)"/.exec(www)?.[1] ?? '';
    // An Authorization computed as RFC 2617 §3.2.2 says, with the wrong password.
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const uri = `sip:srs@127.0.0.1:${port}`;
    const response = md5(`${md5(`recorder:speech-gateway:wrong password`)}:${nonce}:00000001:abc:auth:${md5(`INVITE:${uri}`)}`);
    const authorization = `Authorization: Digest username="recorder", realm="speech-gateway", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc"`;
    const refused = await client.request(sipRequest(client, port, { method: 'INVITE', callId: 'digest-1', cseq: 2, contentType, body, headers: [authorization] }));
    assert.equal(refused.status, 403);
    assert.equal(await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'siprec', reason: 'bad_credentials' }), 1);
    assert.ok(!events.events.some((e) => e.event.type === 'call.started' && e.event.siprec?.sipCallId === 'digest-1'), 'no call started');
  } finally {
    client.close();
  }
});
