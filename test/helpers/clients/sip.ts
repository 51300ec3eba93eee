import dgram from 'node:dgram';
import net from 'node:net';

/** A SIP message as the test reads it: start line, headers by lower-case name, body. */
export interface SipText {
  readonly startLine: string;
  readonly status: number | undefined;
  readonly method: string | undefined;
  header(name: string): string | undefined;
  readonly body: string;
  readonly raw: string;
}

export function readSip(raw: string): SipText {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const [startLine = '', ...lines] = head.split('\r\n');
  const status = /^SIP\/2\.0 (\d{3})/.exec(startLine);
  return {
    startLine,
    status: status === null ? undefined : Number(status[1]),
    method: status === null ? startLine.split(' ')[0] : undefined,
    header: (name) => lines.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.replace(/^[^:]*:\s*/, ''),
    body,
    raw,
  };
}

/**
 * A SIP peer over UDP or TCP for the tests: sends text, collects every
 * message the gateway sends back (responses and its own requests).
 */
export class SipTestClient {
  readonly received: SipText[] = [];
  private waiters: { predicate: (m: SipText) => boolean; resolve: (m: SipText) => void }[] = [];

  private constructor(
    readonly transport: 'udp' | 'tcp',
    private readonly sendRaw: (data: Buffer) => void,
    private readonly closeRaw: () => void,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  static async udp(port: number, bindAddress = '127.0.0.1'): Promise<SipTestClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, bindAddress, () => resolve()));
    const client = new SipTestClient('udp', (data) => socket.send(data, port, '127.0.0.1'), () => socket.close(), bindAddress, socket.address().port);
    socket.on('message', (data) => client.push(data.toString('latin1')));
    return client;
  }

  static async tcp(port: number): Promise<SipTestClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new SipTestClient('tcp', (data) => socket.write(data), () => socket.destroy(), '127.0.0.1', socket.localPort ?? 0);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        client.push(buffered.slice(0, end + 4 + length));
        buffered = buffered.slice(end + 4 + length);
      }
    });
    socket.on('error', () => undefined);
    return client;
  }

  private push(raw: string): void {
    const message = readSip(raw);
    this.received.push(message);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(message)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  }

  send(text: string | Buffer): void {
    this.sendRaw(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** The first message (already received or to come) matching `predicate`. */
  waitFor(predicate: (m: SipText) => boolean, timeoutMs = 5000, what = 'SIP message'): Promise<SipText> {
    const seen = this.received.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${this.received.map((m) => m.startLine).join(' | ')}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Sends a request and resolves with its final response (1xx skipped), matched by Call-ID and CSeq. */
  async request(text: string, timeoutMs = 5000): Promise<SipText> {
    const sent = readSip(text);
    const callId = sent.header('call-id');
    const cseq = sent.header('cseq');
    this.send(text);
    return this.waitFor((m) => m.status !== undefined && m.status >= 200 && m.header('call-id') === callId && m.header('cseq') === cseq, timeoutMs, `response to ${sent.startLine}`);
  }

  close(): void {
    this.closeRaw();
  }
}

export interface RequestSpec {
  readonly method: string;
  readonly callId: string;
  readonly cseq?: number;
  readonly fromTag?: string;
  readonly toTag?: string;
  readonly headers?: readonly string[];
  readonly contentType?: string;
  readonly body?: string;
}

/** Writes a request from `client` to the gateway's SIP port. */
export function sipRequest(client: SipTestClient, port: number, spec: RequestSpec): string {
  const transport = client.transport.toUpperCase();
  const body = spec.body ?? '';
  const lines = [
    `${spec.method} sip:srs@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${client.localAddress}:${client.localPort};branch=z9hG4bK${spec.callId.replace(/\W/g, '')}${spec.method}${spec.cseq ?? 1};rport`,
    `From: <sip:src@${client.localAddress}>;tag=${spec.fromTag ?? 'src-tag'}`,
    `To: <sip:srs@127.0.0.1>${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.method}`,
    `Contact: <sip:src@${client.localAddress}:${client.localPort};transport=${client.transport}>;+sip.src`,
    'Max-Forwards: 70',
    ...(spec.headers ?? []),
    ...(spec.contentType === undefined ? [] : [`Content-Type: ${spec.contentType}`]),
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** An SRC's offer: one sendonly audio m-line per `streams` entry (`[label, payload types with rtpmaps]`). */
export function srcOffer(streams: readonly { readonly label: string; readonly formats: string; readonly rtpmaps: readonly string[]; readonly protocol?: string }[]): string {
  const lines = ['v=0', 'o=src 1 1 IN IP4 127.0.0.1', 's=SIPREC', 'c=IN IP4 127.0.0.1', 't=0 0'];
  streams.forEach((s, i) => {
    lines.push(`m=audio ${20000 + 2 * i} ${s.protocol ?? 'RTP/AVP'} ${s.formats}`, ...s.rtpmaps.map((r) => `a=rtpmap:${r}`), `a=label:${s.label}`, 'a=sendonly');
  });
  return `${lines.join('\r\n')}\r\n`;
}

/** RFC 7865 metadata: participants by AoR, each sending the stream with the given label. */
export function rsMetadata(sessionId: string, participants: readonly { readonly aor: string; readonly label: string }[]): string {
  const parts = participants.map((p, i) => `<participant participant_id="p${i}"><nameID aor="${p.aor}"/></participant>`);
  const streams = participants.map((p, i) => `<stream stream_id="s${i}" session_id="${sessionId}"><label>${p.label}</label></stream>`);
  const assocs = participants.map((_, i) => `<participantstreamassoc participant_id="p${i}"><send>s${i}</send></participantstreamassoc>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\r\n<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode><session session_id="${sessionId}"/>${parts.join('')}${streams.join('')}${assocs.join('')}</recording>\r\n`;
}

/** A multipart/mixed body of the SDP and the metadata, and its Content-Type. */
export function siprecBody(sdp: string, metadata: string): { contentType: string; body: string } {
  const boundary = 'unique-boundary-1';
  const body = `--${boundary}\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--${boundary}\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n${metadata}\r\n--${boundary}--\r\n`;
  return { contentType: `multipart/mixed;boundary=${boundary}`, body };
}
