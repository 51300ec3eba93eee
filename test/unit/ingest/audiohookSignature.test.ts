/**
 * The AudioHook request signature against the example Genesys publishes
 * (developer.genesys.cloud/devapps/audiohook/, session walkthrough: API key
 * SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh, client secret
 * TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=, signature
 * NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=), and what must be refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkRequestSignature, type SignedRequest } from '../../../src/ingest/websocket/audiohook/requestSignature.js';

const API_KEY = 'SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh';
const SECRET = Buffer.from('TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU=', 'base64');
const CREATED = 1641013200;

const GENESYS_EXAMPLE: SignedRequest = {
  method: 'GET',
  url: '/api/v1/voicebiometrics/ws',
  headers: {
    host: 'audiohook.example.com',
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-key': 'SSdtIGEgV2ViU29ja2V0IQ==',
    'sec-websocket-version': '13',
    'user-agent': 'GenesysCloud-AudioHook-Client',
    'audiohook-organization-id': 'd7934305-0972-4844-938e-9060eef73d05',
    'audiohook-correlation-id': 'e160e428-53e2-487c-977d-96989bf5c99d',
    'audiohook-session-id': '30b0e395-84d3-4570-ac13-9a62d8f514c0',
    'x-api-key': API_KEY,
    signature: 'sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:',
    'signature-input':
      'sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430',
  },
};

function withHeaders(headers: Record<string, string | undefined>): SignedRequest {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...GENESYS_EXAMPLE.headers, ...headers })) if (typeof v === 'string') merged[k] = v;
  return { ...GENESYS_EXAMPLE, headers: merged };
}

describe('AudioHook request signature (RFC 9421 as Genesys signs it)', () => {
  test("Genesys' published example verifies", () => {
    assert.equal(checkRequestSignature(GENESYS_EXAMPLE, API_KEY, SECRET, CREATED + 1), undefined);
  });

  test('a wrong secret, a tampered covered header, another key or path do not', () => {
    assert.match(checkRequestSignature(GENESYS_EXAMPLE, API_KEY, Buffer.from('another secret'), CREATED)?.message ?? '', /does not verify/);
    assert.match(checkRequestSignature(withHeaders({ 'audiohook-session-id': '30b0e395-84d3-4570-ac13-9a62d8f514c1' }), API_KEY, SECRET, CREATED)?.message ?? '', /does not verify/);
    assert.match(checkRequestSignature({ ...GENESYS_EXAMPLE, url: '/api/v1/other' }, API_KEY, SECRET, CREATED)?.message ?? '', /does not verify/);
    assert.match(checkRequestSignature(withHeaders({ host: 'evil.example.com' }), API_KEY, SECRET, CREATED)?.message ?? '', /does not verify/);
    assert.match(checkRequestSignature(GENESYS_EXAMPLE, 'another-key', SECRET, CREATED)?.message ?? '', /keyid/);
  });

  test('a stale or future created is refused, within the allowed skew accepted', () => {
    assert.equal(checkRequestSignature(GENESYS_EXAMPLE, API_KEY, SECRET, CREATED + 13), undefined);
    assert.equal(checkRequestSignature(GENESYS_EXAMPLE, API_KEY, SECRET, CREATED + 14)?.reason, 'expired');
    assert.equal(checkRequestSignature(GENESYS_EXAMPLE, API_KEY, SECRET, CREATED - 3), undefined);
    assert.match(checkRequestSignature(GENESYS_EXAMPLE, API_KEY, SECRET, CREATED - 4)?.message ?? '', /future/);
  });

  test('missing, partial, malformed or incomplete signatures are refused with their reason', () => {
    assert.equal(checkRequestSignature(withHeaders({ signature: undefined, 'signature-input': undefined }), API_KEY, SECRET, CREATED)?.reason, 'missing');
    assert.match(checkRequestSignature(withHeaders({ signature: undefined }), API_KEY, SECRET, CREATED)?.message ?? '', /Signature header missing/);
    assert.match(checkRequestSignature(withHeaders({ signature: 'sig1=NZBw' }), API_KEY, SECRET, CREATED)?.message ?? '', /byte-sequence|structured/);
    assert.match(checkRequestSignature(withHeaders({ 'signature-input': 'sig1=("@request-target"' }), API_KEY, SECRET, CREATED)?.message ?? '', /structured field/);
    const fewer = String(GENESYS_EXAMPLE.headers['signature-input']).replace(' "x-api-key"', '');
    assert.match(checkRequestSignature(withHeaders({ 'signature-input': fewer }), API_KEY, SECRET, CREATED)?.message ?? '', /does not cover x-api-key/);
    const noNonce = String(GENESYS_EXAMPLE.headers['signature-input']).replace('nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";', '');
    assert.match(checkRequestSignature(withHeaders({ 'signature-input': noNonce }), API_KEY, SECRET, CREATED)?.message ?? '', /nonce/);
    const rsa = String(GENESYS_EXAMPLE.headers['signature-input']).replace('hmac-sha256', 'rsa-pss-sha512');
    assert.match(checkRequestSignature(withHeaders({ 'signature-input': rsa }), API_KEY, SECRET, CREATED)?.message ?? '', /alg/);
  });
});
