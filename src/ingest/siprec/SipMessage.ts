/**
 * SIP messages (RFC 3261 §7): parsing what an SRC sends and writing the
 * SRS's answers. Only what a recording server needs: the start line, headers
 * (folded lines, compact forms, repeated and comma-joined values), the body
 * by Content-Length, and responses that copy Via, From, To, Call-ID and CSeq
 * (§8.2.6.2).
 *
 * Written here rather than taken from npm: the `sip` package (0.0.6) is
 * untyped and unmaintained, SIP.js and JsSIP are browser user agents over
 * WebSocket. SDP and the rs-metadata XML are parsed with sdp-transform and
 * fast-xml-parser.
 *
 * @see [RFC 3261 §7, §8.2, §18, §20](https://datatracker.ietf.org/doc/html/rfc3261#section-7)
 */

/** The largest message taken (UDP datagram or one TCP message, headers and body). */
export const MAX_SIP_MESSAGE_BYTES = 65_535;

/** Compact header forms (RFC 3261 §7.3.3, §20). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  /** RFC 4028 §4. */
  x: 'session-expires',
};

/** Headers that may hold several comma-separated values (the ones this server reads that way). */
const COMMA_LISTS = new Set(['via', 'require', 'supported', 'allow', 'proxy-require']);

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

export interface SipRequest {
  readonly method: string;
  readonly uri: string;
  /** Lower-case full names; values in order, one per occurrence (and per comma item of a list header). */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: Buffer;
}

/** Why a message could not be taken, and whether it is a request with enough headers to answer 400. */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  constructor(
    message: string,
    /** Set when the start line and the headers parsed: the 400 can be sent. */
    readonly request?: SipRequest,
  ) {
    super(message);
  }
}

/** A response the SRS received (to a BYE it sent); only its status matters. */
export interface SipResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

/**
 * Parses one whole message. A response gives `{ response }`; a request
 * missing a mandatory header (§8.1.1) throws with `request` set, so the caller can answer 400.
 * @throws SipParseError
 */
export function parseSipMessage(data: Buffer): { request: SipRequest } | { response: SipResponse } {
  if (data.length > MAX_SIP_MESSAGE_BYTES) throw new SipParseError(`message of ${data.length} bytes is over ${MAX_SIP_MESSAGE_BYTES}`);
  const end = headerEnd(data);
  if (end === undefined) throw new SipParseError('no blank line after the headers');
  const head = data.subarray(0, end.at).toString('latin1');
  // Leading CRLFs before a message are allowed (§7.5); keep-alive CRLFs never reach here.
  const lines = head.replace(/^(\r?\n)+/, '').split(/\r?\n/);
  const startLine = lines.shift() ?? '';
  const { headers, problem } = parseHeaders(lines);
  const declared = headers.get('content-length')?.[0];
  let body = data.subarray(end.at + end.length);
  if (declared !== undefined) {
    if (!/^\d{1,6}$/.test(declared.trim())) throw new SipParseError(`bad Content-Length '${declared.slice(0, 20)}'`);
    const length = Number(declared.trim());
    if (length > body.length) throw new SipParseError(`Content-Length ${length} is more than the ${body.length} body bytes received`);
    body = body.subarray(0, length);
  }
  const status = /^SIP\/2\.0 ([1-6]\d\d) /.exec(startLine + ' ');
  if (status !== null) {
    if (problem !== undefined) throw new SipParseError(problem);
    return { response: { status: Number(status[1]), headers } };
  }
  const request = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/2\.0$/.exec(startLine);
  if (request === null) throw new SipParseError(`bad start line '${startLine.slice(0, 60)}'`);
  const parsed: SipRequest = { method: request[1] as string, uri: request[2] as string, headers, body };
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if ((headers.get(name)?.length ?? 0) === 0) throw new SipParseError(`missing ${name} header`, name === 'via' ? undefined : parsed);
  }
  const cseq = parseCSeq(parsed);
  if (cseq === undefined || cseq.method !== parsed.method) throw new SipParseError(`bad CSeq '${(headers.get('cseq')?.[0] ?? '').slice(0, 40)}'`, parsed);
  // A bad line among good ones: the request can still be answered, with 400 (RFC 3261 §8.2).
  if (problem !== undefined) throw new SipParseError(problem, parsed);
  return { request: parsed };
}

/** Where the headers end: index of the blank line and its length. */
export function headerEnd(data: Buffer): { at: number; length: number } | undefined {
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

/** The headers of the lines that parse, and the first problem of those that do not. */
function parseHeaders(lines: readonly string[]): { headers: Map<string, string[]>; problem: string | undefined } {
  let problem: string | undefined;
  const headers = new Map<string, string[]>();
  const unfolded: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && unfolded.length > 0) unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    else unfolded.push(line);
  }
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    const rawName = colon <= 0 ? '' : line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(rawName)) {
      problem ??= colon <= 0 ? `bad header line '${line.slice(0, 60)}'` : `bad header name '${rawName.slice(0, 40)}'`;
      continue;
    }
    const name = COMPACT[rawName] ?? rawName;
    const value = line.slice(colon + 1).trim();
    const values = COMMA_LISTS.has(name) ? splitCommas(value) : [value];
    const list = headers.get(name);
    if (list === undefined) headers.set(name, values);
    else list.push(...values);
  }
  return { headers, problem };
}

/** Splits a header value at commas outside quotes and angle brackets. */
function splitCommas(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v !== '');
}

export function header(message: { readonly headers: ReadonlyMap<string, readonly string[]> }, name: string): string | undefined {
  return message.headers.get(name)?.[0];
}

export function parseCSeq(request: SipRequest): { seq: number; method: string } | undefined {
  const match = /^(\d{1,10})\s+(\S+)$/.exec(header(request, 'cseq') ?? '');
  if (match === null) return undefined;
  const seq = Number(match[1]);
  return seq < 2 ** 31 ? { seq, method: match[2] as string } : undefined;
}

/** A `;name=value` parameter of a header value (tag, branch), outside its <URI>. */
export function headerParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const outside = value.replace(/<[^>]*>/g, '<>').replace(/"[^"]*"/g, '""');
  const match = new RegExp(`;\\s*${name}\\s*=\\s*([^;,\\s]+)`, 'i').exec(outside);
  return match?.[1];
}

/** The URI of a name-addr (`"Bob" <sip:bob@b.example>;tag=1`) or addr-spec header value. */
export function headerUri(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const angle = /<([^>]*)>/.exec(value);
  if (angle !== null) return angle[1];
  return value.split(';')[0]?.trim();
}

/** The media type of a Content-Type value, lower case, and its parameters. */
export function parseContentType(value: string | undefined): { type: string; params: ReadonlyMap<string, string> } | undefined {
  if (value === undefined) return undefined;
  const [type = '', ...rest] = value.split(';');
  const params = new Map<string, string>();
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq > 0) params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Reason phrases of the statuses this server sends (RFC 3261 §21, RFC 3262, RFC 5079). */
const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  415: 'Unsupported Media Type',
  420: 'Bad Extension',
  481: 'Call/Transaction Does Not Exist',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export interface ResponseOptions {
  /** Added to To when it has none (a dialog-creating or any final response, §8.2.6.2). */
  readonly toTag?: string;
  /** Reason phrase instead of the standard one (e.g. what was wrong, for a 400). */
  readonly reason?: string;
  /** Extra headers in order, `[name, value]`. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: { readonly type: string; readonly content: string };
}

/** Writes a response to `request` (§8.2.6): Via, From, To, Call-ID and CSeq copied. */
export function buildResponse(request: SipRequest, status: number, options: ResponseOptions = {}): Buffer {
  const reason = (options.reason ?? REASONS[status] ?? 'Unknown').replace(/[\r\n]+/g, ' ').slice(0, 120);
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const via of request.headers.get('via') ?? []) lines.push(`Via: ${via}`);
  lines.push(`From: ${header(request, 'from') ?? ''}`);
  const to = header(request, 'to') ?? '';
  lines.push(`To: ${options.toTag !== undefined && headerParam(to, 'tag') === undefined ? `${to};tag=${options.toTag}` : to}`);
  lines.push(`Call-ID: ${header(request, 'call-id') ?? ''}`);
  lines.push(`CSeq: ${header(request, 'cseq') ?? ''}`);
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`);
  const body = options.body === undefined ? '' : options.body.content;
  if (options.body !== undefined) lines.push(`Content-Type: ${options.body.type}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** Writes a request within a dialog (the SRS's BYE when a call ends on its side). */
export function buildRequest(method: string, uri: string, headers: readonly (readonly [string, string])[]): Buffer {
  const lines = [`${method} ${uri} SIP/2.0`, ...headers.map(([name, value]) => `${name}: ${value}`), 'Content-Length: 0'];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
}
