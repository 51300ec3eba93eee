import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TokenIssuer, type TokenRequest } from '../../src/auth/TokenIssuer.js';

/** A 32-byte HS256 secret for tests (never a real one). */
export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** Signs a token with {@link TEST_SECRET} (or `secret`). */
export async function hsToken(request: Partial<TokenRequest> & Pick<TokenRequest, 'role'>, secret = TEST_SECRET): Promise<string> {
  const issuer = await TokenIssuer.create({ secret });
  return issuer.issue({ ttl: '1h', ...request });
}

/** An RSA key pair written as PEM files (PKCS#8 private, SPKI public) into `dir`. */
export async function rsaKeyFiles(dir: string): Promise<{ privateKeyFile: string; publicKeyFile: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const privateKeyFile = path.join(dir, 'jwt-private.pem');
  const publicKeyFile = path.join(dir, 'jwt-public.pem');
  await writeFile(privateKeyFile, privateKey);
  await writeFile(publicKeyFile, publicKey);
  return { privateKeyFile, publicKeyFile, publicKeyPem: publicKey };
}

/** A self-signed certificate for localhost and 127.0.0.1 (openssl), valid one day. */
export async function selfSignedCert(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { timeout: 20_000 });
  return { certFile, keyFile };
}
