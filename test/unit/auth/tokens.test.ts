import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import type { Principal } from '../../../src/auth/Principal.js';
import { PACKAGE_ROOT } from '../../../src/config.js';
import { canAcknowledge, canControlCalls, canReadEvents, canSee, canSeeCallMetadata } from '../../../src/auth/scope.js';
import { parseTtl, TokenIssuer } from '../../../src/auth/TokenIssuer.js';
import { AuthError, TokenVerifier } from '../../../src/auth/TokenVerifier.js';
import { hsToken, rsaKeyFiles, TEST_SECRET } from '../../helpers/auth.js';

let dir: string;
let rsa: Awaited<ReturnType<typeof rsaKeyFiles>>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgw-auth-'));
  rsa = await rsaKeyFiles(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AuthError, `an AuthError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the token to be refused');
}

const secret = new TextEncoder().encode(TEST_SECRET);

describe('TokenVerifier', () => {
  test('HS256: a valid token gives its principal', async () => {
    const verifier = await TokenVerifier.create({ secret: TEST_SECRET });
    const agent = await verifier.verify(await hsToken({ role: 'agent', agentId: 'agent-7' }));
    const { expiresAt, ...claims } = agent;
    assert.deepEqual(claims, { role: 'agent', subject: 'agent-7', agentId: 'agent-7', queues: [] });
    // Its exp (1 h), so that open event connections can be closed when it passes.
    assert.ok(expiresAt !== undefined && Math.abs(expiresAt - (Date.now() + 3600_000)) < 5000, `expiresAt ${expiresAt}`);
    const supervisor = await verifier.verify(await hsToken({ role: 'supervisor', subject: 'sam', queues: ['orders', 'delivery'] }));
    assert.deepEqual([supervisor.role, supervisor.subject, supervisor.queues], ['supervisor', 'sam', ['orders', 'delivery']]);
  });

  test('RS256: a token signed with the private key verifies with the public key file', async () => {
    const verifier = await TokenVerifier.fromFiles({ publicKeyFile: rsa.publicKeyFile });
    const issuer = await TokenIssuer.create({ privateKeyFile: rsa.privateKeyFile });
    assert.equal(issuer.algorithm, 'RS256');
    const principal = await verifier.verify(await issuer.issue({ role: 'admin', ttl: '5m' }));
    assert.equal(principal.role, 'admin');
    // Only the configured algorithm: an HS256 token is refused by an RS256-only verifier.
    assert.equal((await refusal(verifier.verify(await hsToken({ role: 'admin' })))).reason, 'invalid');
  });

  test('expired, wrong signature, wrong issuer or audience', async () => {
    const verifier = await TokenVerifier.create({ secret: TEST_SECRET, issuer: 'idp', audience: 'sgw' });
    const ok = new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('sgw');
    assert.equal((await verifier.verify(await ok.setExpirationTime('1m').sign(secret))).role, 'admin');
    const expired = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('sgw').setExpirationTime(Math.floor(Date.now() / 1000) - 120).sign(secret);
    assert.equal((await refusal(verifier.verify(expired))).reason, 'expired');
    const otherKey = await hsToken({ role: 'admin' }, 'another-secret-0123456789-abcdefghijklmnop');
    assert.equal((await refusal(verifier.verify(otherKey))).reason, 'invalid');
    const wrongIssuer = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('evil').setAudience('sgw').setExpirationTime('1m').sign(secret);
    assert.match((await refusal(verifier.verify(wrongIssuer))).message, /iss/);
    const wrongAudience = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('other').setExpirationTime('1m').sign(secret);
    assert.match((await refusal(verifier.verify(wrongAudience))).message, /aud/);
    assert.equal((await refusal(verifier.verify('not.a.jwt'))).reason, 'invalid');
  });

  test('wrong algorithm: alg none, and HS256 keyed with the RSA public key (algorithm confusion)', async () => {
    const verifier = await TokenVerifier.create({ secret: TEST_SECRET, publicKeyPem: rsa.publicKeyPem });
    const unsigned = new UnsecuredJWT({ role: 'admin' }).setExpirationTime('1m').encode();
    assert.equal((await refusal(verifier.verify(unsigned))).reason, 'invalid');
    const rsOnly = await TokenVerifier.create({ publicKeyPem: rsa.publicKeyPem });
    const confused = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1m').sign(new TextEncoder().encode(rsa.publicKeyPem));
    assert.equal((await refusal(rsOnly.verify(confused))).reason, 'invalid');
    const hs512 = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('1m').sign(new TextEncoder().encode(TEST_SECRET.repeat(2)));
    assert.equal((await refusal(verifier.verify(hs512))).reason, 'invalid');
  });

  test('missing or malformed claims', async () => {
    const verifier = await TokenVerifier.create({ secret: TEST_SECRET });
    const sign = (claims: Record<string, unknown>, exp = true): Promise<string> => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
      return (exp ? jwt.setExpirationTime('1m') : jwt).sign(secret);
    };
    const cases: [Record<string, unknown>, boolean, RegExp][] = [
      [{}, true, /role/],
      [{ role: 'root' }, true, /role/],
      [{ role: 'agent' }, true, /agent_id/],
      [{ role: 'supervisor' }, true, /queues/],
      [{ role: 'supervisor', queues: [] }, true, /queues/],
      [{ role: 'supervisor', queues: 'orders' }, true, /queues/],
      [{ role: 'supervisor', queues: [''] }, true, /non-empty/],
      [{ role: 'supervisor', queues: ['orders', ''] }, true, /non-empty/],
      [{ role: 'admin' }, false, /exp/],
    ];
    for (const [claims, exp, message] of cases) {
      const err = await refusal(verifier.verify(await sign(claims, exp)));
      assert.equal(err.reason, 'invalid', JSON.stringify(claims));
      assert.match(err.message, message, JSON.stringify(claims));
    }
  });

  test('configuration: a short secret and a bad key are refused at start', async () => {
    await assert.rejects(TokenVerifier.create({ secret: 'short' }), /at least 32 bytes/);
    await assert.rejects(TokenVerifier.create({ publicKeyPem: 'nonsense' }), /JWT public key/);
    await assert.rejects(TokenVerifier.fromFiles({ publicKeyFile: path.join(dir, 'missing.pem') }), /cannot read/);
    assert.equal(parseTtl('8h'), 28_800);
    assert.equal(parseTtl('90'), 90);
    assert.throws(() => parseTtl('soon'), /--ttl/);
  });
});

describe('token command', () => {
  test('prints a token the gateway verifies (HS256 from JWT_SECRET, RS256 from JWT_PRIVATE_KEY_FILE); refuses a bad request', async () => {
    const run = (args: string[], env: Record<string, string>) =>
      promisify(execFile)(process.execPath, [path.join(PACKAGE_ROOT, 'dist', 'src', 'cli.js'), 'token', ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 });
    const hs = await run(['--role', 'supervisor', '--sub', 'sam', '--queues', 'orders,delivery', '--ttl', '1h'], { JWT_SECRET: TEST_SECRET, JWT_ISSUER: 'dev' });
    const principal = await (await TokenVerifier.create({ secret: TEST_SECRET, issuer: 'dev' })).verify(hs.stdout.trim());
    assert.deepEqual([principal.role, principal.subject, principal.queues], ['supervisor', 'sam', ['orders', 'delivery']]);
    const rs = await run(['--role', 'agent', '--agent', 'agent-007'], { JWT_PRIVATE_KEY_FILE: rsa.privateKeyFile });
    assert.equal((await (await TokenVerifier.create({ publicKeyPem: rsa.publicKeyPem })).verify(rs.stdout.trim())).agentId, 'agent-007');
    await assert.rejects(run(['--role', 'agent'], { JWT_SECRET: TEST_SECRET }), /needs --agent/);
    await assert.rejects(run(['--role', 'boss'], { JWT_SECRET: TEST_SECRET }), /--role must be one of/);
  });
});

describe('scope', () => {
  const agent: Principal = { role: 'agent', subject: 'a', agentId: 'agent-1', queues: [] };
  const supervisor: Principal = { role: 'supervisor', subject: 's', agentId: undefined, queues: ['orders'] };
  const admin: Principal = { role: 'admin', subject: 'x', agentId: undefined, queues: [] };
  const pbx: Principal = { role: 'pbx', subject: 'p', agentId: undefined, queues: [] };
  const mine = { agentId: 'agent-1', queue: 'delivery' };
  const ordersCall = { agentId: 'agent-2', queue: 'orders' };

  test('agent: own calls; supervisor: its queues; admin: all; pbx: no events', () => {
    assert.deepEqual([canSee(agent, mine), canSee(agent, ordersCall), canSee(agent, undefined)], [true, false, false]);
    assert.deepEqual([canSee(supervisor, mine), canSee(supervisor, ordersCall), canSee(supervisor, undefined)], [false, true, false]);
    assert.deepEqual([canSee(admin, mine), canSee(admin, ordersCall), canSee(admin, undefined)], [true, true, true]);
    assert.deepEqual([canSee(pbx, mine), canReadEvents(pbx), canReadEvents(agent)], [false, false, true]);
  });

  test('control plane: admin and pbx; call metadata: scoped, pbx all; acknowledge: supervisor of the queue or admin', () => {
    assert.deepEqual([agent, supervisor, admin, pbx].map(canControlCalls), [false, false, true, true]);
    assert.deepEqual([agent, supervisor, admin, pbx].map((p) => canSeeCallMetadata(p, ordersCall)), [false, true, true, true]);
    assert.deepEqual([agent, supervisor, admin, pbx].map((p) => canAcknowledge(p, 'orders')), [false, true, true, false]);
    assert.equal(canAcknowledge(supervisor, 'delivery'), false);
  });
});
