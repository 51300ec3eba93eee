/**
 * Fuzzes the SIPREC recording server: ≥20,000 mutated SIP messages (seeded,
 * reproducible with FUZZ_SEED) over UDP datagrams and TCP streams, bounded at
 * 60 s, while sipp holds a well-formed recording session (its RTP streamed
 * by the test). Mutations: characters changed, lines cut, duplicated or
 * dropped, Content-Length lies, the SDP or the rs-metadata alone mangled,
 * bits flipped, random bytes. Afterwards the gateway is alive (OPTIONS on
 * UDP and TCP, /healthz), sipp's BYE of the well-formed session got its 200,
 * a new INVITE still starts a call, and the bad-input counters moved.
 * ASR=none: only SIP and RTP are under test.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { silence } from '../../src/demo/speech.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import { SipTestClient, rsMetadata, siprecBody, sipRequest, srcOffer } from '../helpers/clients/sip.js';
import { EventRecorder, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { type Rand, flipBits, int, mutateText, pick, prng, randomBytes } from '../helpers/prng.js';
import { runSippSiprec } from '../helpers/sipp.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x51_9ec);
const TARGET_INPUTS = Number(process.env['FUZZ_INPUTS'] ?? 20_000);
const BUDGET_MS = Number(process.env['FUZZ_BUDGET_MS'] ?? 60_000);

let gw: TestGateway;
let events: EventRecorder;
let port: number;
let scratch: string;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-siprec-fuzz-'));
  gw = await startTestGateway({ rtpPortMin: 49300, rtpPortMax: 49339, rtpTimeoutMs: 2000, asr: 'none', sipPort: 0, sipHost: '127.0.0.1', siprecAllow: ['127.0.0.0/8'] });
  port = gw.addresses.sipPort ?? assert.fail('SIP listener not started');
  events = await EventRecorder.connect(gw.addresses.http.port, '?types=call.started,call.ended');
});

after(async () => {
  events.close();
  await gw.close();
  await rm(scratch, { recursive: true, force: true });
});

const PCMU = { formats: '0 8 101', rtpmaps: ['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000'] };

/** Well-formed messages of every kind an SRC sends; the fuzz mutates them. */
function template(rand: Rand, transport: 'UDP' | 'TCP', local: number): string {
  const callId = `fuzz-${int(rand, 1e9)}`;
  const fake = { transport: transport.toLowerCase(), localAddress: '127.0.0.1', localPort: local } as unknown as SipTestClient;
  const { contentType, body } = siprecBody(
    srcOffer([{ label: '1', ...PCMU }, { label: '2', ...PCMU }]),
    rsMetadata('c2Vzc2lvbg==', [{ aor: 'sip:agent-9@pbx', label: '1' }, { aor: 'sip:caller@carrier', label: '2' }]),
  );
  switch (int(rand, 8)) {
    case 0:
    case 1:
    case 2:
      return sipRequest(fake, port, { method: 'INVITE', callId, contentType, body, headers: ['Require: siprec'] });
    case 3:
      return sipRequest(fake, port, { method: 'INVITE', callId, toTag: 'abc', cseq: 2, contentType, body });
    case 4:
      return sipRequest(fake, port, { method: 'OPTIONS', callId });
    case 5:
      return sipRequest(fake, port, { method: pick(rand, ['BYE', 'CANCEL', 'ACK']), callId, toTag: pick(rand, [undefined, 'x']) });
    case 6:
      return sipRequest(fake, port, { method: 'UPDATE', callId, toTag: 'abc', contentType: 'application/rs-metadata+xml', body: rsMetadata('x', [{ aor: 'sip:a@b', label: '1' }]) });
    default:
      return sipRequest(fake, port, { method: 'INVITE', callId, contentType: 'application/sdp', body: srcOffer([{ label: '1', ...PCMU }]) });
  }
}

/** One mutated input. */
function mutate(rand: Rand, message: string): Buffer {
  const split = message.indexOf('\r\n\r\n');
  const head = message.slice(0, split);
  const body = message.slice(split + 4);
  const lines = head.split('\r\n');
  switch (int(rand, 9)) {
    case 0:
      return Buffer.from(mutateText(rand, message), 'latin1');
    case 1: {
      // A header line dropped or duplicated.
      const i = 1 + int(rand, lines.length - 1);
      if (rand() < 0.5) lines.splice(i, 1);
      else lines.splice(i, 0, lines[i] ?? '');
      return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
    }
    case 2: {
      // Content-Length lies.
      const lie = pick(rand, [0, 1, body.length - 1, body.length + 1, body.length * 2, 999_999, -1]);
      return Buffer.from(`${head.replace(/Content-Length: \d+/, `Content-Length: ${lie}`)}\r\n\r\n${body}`, 'latin1');
    }
    case 3:
    case 4: {
      // The body alone mangled (SDP or XML inside a well-framed message).
      const mangled = mutateText(rand, body);
      return Buffer.from(`${head.replace(/Content-Length: \d+/, `Content-Length: ${Buffer.byteLength(mangled, 'latin1')}`)}\r\n\r\n${mangled}`, 'latin1');
    }
    case 5:
      return flipBits(rand, Buffer.from(message, 'latin1'));
    case 6:
      return Buffer.from(message.slice(0, int(rand, message.length)), 'latin1');
    case 7:
      // A start line or header of odd shape.
      lines[int(rand, lines.length)] = pick(rand, ['INVITE', 'SIP/2.0 200', `X-Long: ${'a'.repeat(int(rand, 70_000))}`, 'Via:', 'CSeq: 1 BYE', 'CSeq: 99999999999 INVITE', 'To: <sip:x>;tag=', ':', 'Content-Type: multipart/mixed;boundary=']);
      return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
    default:
      return randomBytes(rand, 1 + int(rand, 400));
  }
}

/** Messages the server took in: well-formed requests and responses, plus those refused as malformed. */
async function processedInputs(): Promise<number> {
  const types = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'UPDATE', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'INFO', 'PRACK', 'PUBLISH', 'other', 'response'];
  const counts = await Promise.all(types.map((type) => metricValue(gw.metrics, 'sgw_ingest_messages_total', { protocol: 'siprec', type })));
  return counts.reduce((a, b) => a + b, 0) + (await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'siprec', reason: 'bad_message' }));
}

async function udpWorker(seed: number, deadline: number, done: () => Promise<boolean>): Promise<number> {
  const rand = prng(seed);
  const socket = dgram.createSocket('udp4');
  socket.on('message', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const local = socket.address().port;
  let sent = 0;
  while (Date.now() < deadline && !(await done())) {
    for (let i = 0; i < 25; i++) {
      const input = mutate(rand, template(rand, 'UDP', local));
      // Larger than a datagram can be: not sendable, so not an input.
      if (input.length > 65_000) continue;
      socket.send(input, port, '127.0.0.1');
      sent++;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  socket.close();
  return sent;
}

async function tcpWorker(seed: number, deadline: number, done: () => Promise<boolean>): Promise<number> {
  const rand = prng(seed);
  let sent = 0;
  while (Date.now() < deadline && !(await done())) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('data', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (!connected) continue;
    const local = socket.localPort ?? 0;
    for (let i = 0; i < 20 && !socket.destroyed; i++) {
      const input = rand() < 0.6 ? Buffer.from(template(rand, 'TCP', local), 'latin1') : mutate(rand, template(rand, 'TCP', local));
      socket.write(input);
      sent++;
      await new Promise((r) => setTimeout(r, 1));
    }
    socket.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
    socket.destroy();
  }
  return sent;
}

test(`SIPREC fuzz: ${TARGET_INPUTS} inputs (seed ${SEED}) beside a well-formed sipp session`, { timeout: 150_000 }, async () => {
  // The well-formed session holds 15 s, during the fuzz (or its BYE comes amid it); its RTP keeps it from timing out.
  const sipp = runSippSiprec({ port, transport: 'udp', holdMs: 15_000, keys: { session_id: 'd2VsbA==', customer_aor: 'sip:caller@carrier', agent_aor: 'sip:agent-1@pbx' }, dir: scratch });
  const [first, second] = await sipp.answeredPorts;
  const rtp = new AbortController();
  const codec = { name: 'PCMU', clockRate: 8000, payloadType: 0 } as const;
  const media = Promise.allSettled([first, second].map((p) => RtpSender.sendPcm({ codec, destination: { address: '127.0.0.1', port: p }, pcm: silence(18_000, 8000), sampleRate: 8000, bye: false, signal: rtp.signal })));

  const before = await processedInputs();
  const processed = async (): Promise<number> => (await processedInputs()) - before;
  const done = async (): Promise<boolean> => (await processed()) >= TARGET_INPUTS;
  const t0 = Date.now();
  const sent = await Promise.all([udpWorker(SEED, t0 + BUDGET_MS, done), udpWorker(SEED + 1, t0 + BUDGET_MS, done), tcpWorker(SEED + 2, t0 + BUDGET_MS, done)]);
  const elapsed = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  const inputs = await processed();
  const reasons = ['bad_message', 'bad_body', 'bad_sdp', 'no_usable_stream', 'bad_extension', 'call_refused', 'oversize', 'no_content_length'];
  const counts = Object.fromEntries(await Promise.all(reasons.map(async (r) => [r, await metricValue(gw.metrics, 'sgw_ingest_protocol_errors_total', { protocol: 'siprec', reason: r })] as const)));
  const statuses = Object.fromEntries(await Promise.all(['200', '400', '415', '481', '488', '500', '503'].map(async (s) => [s, await metricValue(gw.metrics, 'sgw_sip_responses_total', { method: 'INVITE', status: s })] as const)));
  console.log(`siprec fuzz: seed ${SEED}, ${inputs} inputs processed (${sent.join('+')} sent: UDP, UDP, TCP) in ${elapsed} ms; errors ${JSON.stringify(counts)}; INVITE answers ${JSON.stringify(statuses)}`);

  assert.ok(inputs >= TARGET_INPUTS, `only ${inputs} inputs processed in ${BUDGET_MS} ms`);
  for (const reason of ['bad_message', 'bad_body', 'bad_sdp']) assert.ok((counts[reason] ?? 0) > 0, `counter ${reason} moved`);
  assert.ok((statuses['400'] ?? 0) > 0 && (statuses['200'] ?? 0) > 1, 'mangled INVITEs were refused with 400, intact ones answered 200');
  // A 500 is a bug caught by the server's last guard: every input must get its proper answer.
  assert.equal(statuses['500'], 0, 'no INVITE answered 500');

  // Alive: OPTIONS on both transports, /healthz.
  for (const client of [await SipTestClient.udp(port), await SipTestClient.tcp(port)]) {
    const response = await client.request(sipRequest(client, port, { method: 'OPTIONS', callId: `alive-${client.transport}` }));
    assert.equal(response.status, 200);
    client.close();
  }
  assert.equal((await fetch(`http://127.0.0.1:${gw.addresses.http.port}/healthz`)).status, 200);

  // The well-formed session went through: sipp's BYE got its 200.
  assert.equal(await sipp.exit, 0, `sipp: ${sipp.output()}`);
  rtp.abort();
  await media;

  // Once the fuzz's calls have timed out, a new INVITE starts a call.
  const deadline = Date.now() + 15_000;
  while (gw.gateway.drainStatus.activeCalls > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const fresh = await SipTestClient.udp(port);
  const { contentType, body } = siprecBody(srcOffer([{ label: '1', ...PCMU }, { label: '2', ...PCMU }]), rsMetadata('bmV3', [{ aor: 'sip:agent-2@pbx', label: '1' }]));
  const ok = await fresh.request(sipRequest(fresh, port, { method: 'INVITE', callId: 'after-fuzz', contentType, body }));
  assert.equal(ok.status, 200, ok.raw);
  await events.waitFor((e) => e.event.type === 'call.started' && e.event.siprec?.sipCallId === 'after-fuzz', 5000, 'the call after the fuzz');
  fresh.close();
});
