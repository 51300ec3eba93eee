/**
 * TLS: with certificate files configured, the HTTP port speaks HTTPS/WSS and
 * the control plane gRPC over TLS (with client certificates when a client CA
 * is configured). A self-signed certificate made with openssl for the test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { hsToken, selfSignedCert, TEST_SECRET } from '../helpers/auth.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let dir: string;
let cert: { certFile: string; keyFile: string };
let gw: TestGateway;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-tls-'));
  cert = await selfSignedCert(dir);
  gw = await startTestGateway({ rtpPortMin: 43420, rtpPortMax: 43429, asrWorkers: 1, jwtSecret: TEST_SECRET, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile });
});

after(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

function httpsStatus(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca, headers, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('TLS', { timeout: 60_000 }, () => {
  test('HTTPS and WSS on the HTTP port; plain HTTP is refused', async () => {
    assert.equal(gw.addresses.tls, true);
    const ca = readFileSync(cert.certFile);
    const port = gw.addresses.http.port;
    assert.equal(await httpsStatus(`https://127.0.0.1:${port}/healthz`, ca), 200);
    assert.equal(await httpsStatus(`https://127.0.0.1:${port}/v1/calls`, ca), 401);
    const token = await hsToken({ role: 'admin' });
    assert.equal(await httpsStatus(`https://127.0.0.1:${port}/v1/calls`, ca, { authorization: `Bearer ${token}` }), 200);
    // A client that does not trust the certificate gets no connection.
    await assert.rejects(httpsStatus(`https://127.0.0.1:${port}/healthz`, Buffer.from('')), /self[- ]signed|certificate/i);
    await assert.rejects(
      new Promise((resolve, reject) => httpGet(`http://127.0.0.1:${port}/healthz`, { timeout: 3000 }, resolve).on('error', reject).on('timeout', () => reject(new Error('timeout')))),
    );

    const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/events?access_token=${token}`, { ca });
    const messages: { type: string; callId: string }[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as { type: string; callId: string }));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // gRPC over TLS: the helper's client trusts the test certificate and carries an admin token.
    await gw.control.startCall({ call_id: 'tls-1', agent_id: 'agent-1', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
    for (let i = 0; i < 100 && messages.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(messages.map((m) => [m.type, m.callId]), [['call.started', 'tls-1']]);
    ws.close();
    await gw.control.endCall('tls-1');
  });

  test('gRPC: TLS required; with a client CA, a client certificate is required too', async () => {
    const plain = new CallControl(`127.0.0.1:${gw.addresses.grpcPort}`, grpc.credentials.createInsecure(), { channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100 } });
    try {
      await assert.rejects(
        new Promise((resolve, reject) => plain.raw.ListCalls({}, { deadline: Date.now() + 3000 }, (err, res) => (err ? reject(err) : resolve(res)))),
        (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED,
      );
    } finally {
      plain.close();
    }

    const mutual = await startTestGateway({ rtpPortMin: 43430, rtpPortMax: 43439, asrWorkers: 1, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile, tlsClientCaFile: cert.certFile });
    const address = `127.0.0.1:${mutual.addresses.grpcPort}`;
    const pem = readFileSync(cert.certFile);
    const withoutCert = new CallControl(address, grpc.credentials.createSsl(pem));
    const withCert = new CallControl(address, grpc.credentials.createSsl(pem, readFileSync(cert.keyFile), pem));
    try {
      await assert.rejects(
        new Promise((resolve, reject) => withoutCert.raw.ListCalls({}, { deadline: Date.now() + 3000 }, (err, res) => (err ? reject(err) : resolve(res)))),
        (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED,
      );
      assert.deepEqual((await withCert.listCalls()).calls, []);
    } finally {
      withoutCert.close();
      withCert.close();
      await mutual.close();
    }
  });
});
