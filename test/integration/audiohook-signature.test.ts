/**
 * Genesys AudioHook with a client secret: a real WebSocket client signs its
 * connection request as Genesys Cloud does (RFC 9421 HMAC-SHA256, keyid the
 * API key; the signer in test/helpers/clients/audiohook.ts is written from
 * the protocol's documentation, apart from the gateway's verifier). A valid
 * signature opens a session; a wrong secret, a covered header changed after
 * signing, a stale `created` or no signature at all is refused with 401
 * before upgrading and counted by reason. A key without a secret goes on
 * working with the key alone.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AudioHookClient } from '../helpers/clients/audiohook.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const SIGNED_KEY = 'signed-key-0123456789';
const PLAIN_KEY = 'plain-key-0123456789';
const SECRET = randomBytes(32);

describe('Genesys AudioHook request signatures', () => {
  let gw: TestGateway;
  let port: number;

  before(async () => {
    gw = await startTestGateway({
      rtpPortMin: 48920,
      rtpPortMax: 48929,
      asr: 'none',
      audiohookApiKeys: [PLAIN_KEY],
      audiohookClientSecrets: new Map([[SIGNED_KEY, SECRET]]),
    });
    port = gw.addresses.http.port;
  });

  after(async () => {
    await gw.close();
  });

  const rejections = (reason: string): Promise<number> => metricValue(gw.metrics, 'sgw_auth_rejections_total', { transport: 'websocket', reason });

  test('a request signed with the client secret opens a session and its call', async () => {
    const events = await EventRecorder.connect(port);
    const client = await AudioHookClient.connect(port, { apiKey: SIGNED_KEY, sign: { secret: SECRET } });
    const opened = await client.open();
    assert.equal(opened.type, 'opened');
    await events.waitFor((e) => e.event.type === 'call.started', 5000, 'the call');
    assert.equal((await client.close()).type, 'closed');
    events.close();
  });

  test('a wrong secret or a covered header changed after signing is refused with 401 (invalid)', async () => {
    const before = await rejections('invalid');
    await assert.rejects(AudioHookClient.connect(port, { apiKey: SIGNED_KEY, sign: { secret: randomBytes(32) } }), /HTTP 401/);
    await assert.rejects(AudioHookClient.connect(port, { apiKey: SIGNED_KEY, sign: { secret: SECRET }, afterSigning: { 'Audiohook-Organization-Id': '00000000-0000-4000-8000-000000000000' } }), /HTTP 401/);
    await assert.rejects(AudioHookClient.connect(port, { apiKey: SIGNED_KEY, sign: { secret: SECRET }, afterSigning: { 'Signature-Input': 'sig1=("@request-target");keyid="x"' } }), /HTTP 401/);
    assert.equal(await rejections('invalid'), before + 3);
  });

  test('a stale created is refused with 401 (expired); a missing signature with 401 (missing)', async () => {
    const expired = await rejections('expired');
    await assert.rejects(AudioHookClient.connect(port, { apiKey: SIGNED_KEY, sign: { secret: SECRET, created: Math.floor(Date.now() / 1000) - 60 } }), /HTTP 401/);
    assert.equal(await rejections('expired'), expired + 1);
    const missing = await rejections('missing');
    await assert.rejects(AudioHookClient.connect(port, { apiKey: SIGNED_KEY }), /HTTP 401/);
    assert.equal(await rejections('missing'), missing + 1);
  });

  test('a key without a client secret still needs only the key', async () => {
    const client = await AudioHookClient.connect(port, { apiKey: PLAIN_KEY });
    assert.equal((await client.open()).type, 'opened');
    assert.equal((await client.close()).type, 'closed');
  });
});
