import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parseDictionary, serializeInnerList, type BareItem, type InnerList, type Item } from 'structured-headers';

/**
 * The HTTP message signature (RFC 9421) Genesys Cloud puts on an AudioHook
 * connection request when the integration has a client secret
 * (developer.genesys.cloud/devapps/audiohook/, "Authentication"): label
 * `sig1`, HMAC-SHA256 keyed with the base64-decoded client secret, `keyid`
 * the API key, `nonce`, `created` and `expires`, over `@request-target`,
 * `@authority`, `audiohook-organization-id`, `audiohook-session-id`,
 * `audiohook-correlation-id` and `x-api-key`. A signature must cover all six,
 * be no more than MAX_AGE_S old (CLOCK_SKEW_S either way), and verify.
 * Rules checked against Genesys' reference server
 * (purecloudlabs/audiohook-reference-implementation, app/src/authenticator.ts).
 */
export const REQUIRED_COMPONENTS = ['@request-target', '@authority', 'audiohook-organization-id', 'audiohook-session-id', 'audiohook-correlation-id', 'x-api-key'] as const;

/** Genesys signs as it connects: a signature older than this (plus skew) is a replay or a stuck clock. */
export const MAX_AGE_S = 10;
export const CLOCK_SKEW_S = 3;
/** Genesys' nonces are 22+ characters (128 bits and more, base64). */
const MIN_NONCE_LENGTH = 22;

const DERIVED = new Set(['@request-target', '@authority', '@method', '@path', '@query']);
const KNOWN_PARAMETERS = new Set(['alg', 'keyid', 'nonce', 'created', 'expires', 'tag']);

export interface SignedRequest {
  readonly method: string;
  /** Path and query as on the request line. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** Why a signature was refused: `missing` (none), `expired` (too old), `invalid` (anything else). */
export type SignatureFailure = { readonly reason: 'missing' | 'invalid' | 'expired'; readonly message: string };

/** Undefined when `request` carries a valid signature by `apiKey` with `secret`; otherwise why not. */
export function checkRequestSignature(request: SignedRequest, apiKey: string, secret: Buffer, nowSeconds = Date.now() / 1000): SignatureFailure | undefined {
  const inputField = field(request.headers, 'signature-input');
  const signatureField = field(request.headers, 'signature');
  if (inputField === undefined && signatureField === undefined) return { reason: 'missing', message: 'Signature and Signature-Input headers required (a client secret is configured for this API key)' };
  if (inputField === undefined || signatureField === undefined) return invalid(`${inputField === undefined ? 'Signature-Input' : 'Signature'} header missing`);
  let inputs: Map<string, Item | InnerList>;
  let signatures: Map<string, Item | InnerList>;
  try {
    inputs = parseDictionary(inputField);
    signatures = parseDictionary(signatureField);
  } catch {
    return invalid('Signature or Signature-Input is not a structured field dictionary (RFC 8941)');
  }
  // Genesys sends one signature; with several, the first is the one checked.
  const [label, input] = [...inputs][0] ?? [];
  if (label === undefined || input === undefined || !isInnerList(input)) return invalid('Signature-Input holds no inner list of components');
  const signatureItem = signatures.get(label);
  const signature = signatureItem === undefined || isInnerList(signatureItem) ? undefined : bytes(signatureItem[0]);
  if (signature === undefined) return invalid(`no byte-sequence Signature for label ${label}`);

  const [components, parameters] = input;
  for (const key of parameters.keys()) if (!KNOWN_PARAMETERS.has(key)) return invalid(`unknown signature parameter ${key}`);
  const alg: unknown = parameters.get('alg');
  if (alg !== undefined && alg !== 'hmac-sha256') return invalid(`alg ${typeof alg === 'string' ? alg : 'of another type'} is not hmac-sha256`);
  if (parameters.get('keyid') !== apiKey) return invalid('keyid is not the X-API-KEY');
  const nonce: unknown = parameters.get('nonce');
  if (typeof nonce !== 'string' || nonce.length < MIN_NONCE_LENGTH) return invalid(`nonce missing or shorter than ${MIN_NONCE_LENGTH} characters`);
  const created: unknown = parameters.get('created');
  if (typeof created !== 'number' || !Number.isInteger(created)) return invalid('created missing');
  if (created > nowSeconds + CLOCK_SKEW_S) return invalid('created is in the future');
  if (created + MAX_AGE_S < nowSeconds - CLOCK_SKEW_S) return { reason: 'expired', message: `signature created ${Math.round(nowSeconds - created)} s ago (at most ${MAX_AGE_S} s)` };
  const expires: unknown = parameters.get('expires');
  if (expires !== undefined && (typeof expires !== 'number' || expires < nowSeconds - CLOCK_SKEW_S)) return { reason: 'expired', message: 'signature expired' };

  const lines: string[] = [];
  const covered = new Set<string>();
  for (const [name, componentParameters] of components) {
    if (typeof name !== 'string') return invalid('a component is not a string');
    if (componentParameters.size > 0) return invalid(`component parameters are not supported (${name})`);
    if (covered.has(name)) return invalid(`component ${name} twice`);
    const value = componentValue(request, name);
    if (value === undefined) return invalid(`component ${name} is not in the request`);
    lines.push(`"${name}": ${value}`);
    covered.add(name);
  }
  const uncovered = REQUIRED_COMPONENTS.filter((c) => !covered.has(c));
  if (uncovered.length > 0) return invalid(`signature does not cover ${uncovered.join(', ')}`);
  // The parameters line is serialized again from what was parsed, as RFC 9421 §2.3 and Genesys' reference do.
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  const expected = createHmac('sha256', secret).update(lines.join('\n')).digest();
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return invalid('signature does not verify with the client secret');
  return undefined;
}

function invalid(message: string): SignatureFailure {
  return { reason: 'invalid', message };
}

function componentValue(request: SignedRequest, name: string): string | undefined {
  if (name.startsWith('@')) {
    if (!DERIVED.has(name)) return undefined;
    const target = new URL(request.url, 'http://localhost');
    switch (name) {
      case '@request-target':
        return request.url;
      case '@authority':
        return field(request.headers, 'host')?.toLowerCase();
      case '@method':
        return request.method.toUpperCase();
      case '@path':
        return target.pathname;
      default:
        return target.search;
    }
  }
  return field(request.headers, name);
}

/** A header's value as RFC 9421 §2.1 covers it: trimmed, several lines joined with ", ". */
function field(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map((v) => v.trim()).join(', ');
}

function isInnerList(value: Item | InnerList): value is InnerList {
  return Array.isArray(value[0]);
}

function bytes(value: BareItem): Buffer | undefined {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}
