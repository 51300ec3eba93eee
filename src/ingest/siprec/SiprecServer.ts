/**
 * The SIPREC recording server (SRS, RFC 7866) on UDP and TCP: an SRC (an
 * SBC or PBX) sends an INVITE whose multipart/mixed body holds an SDP offer
 * with one audio m-line per recorded stream and the rs-metadata (RFC 7865);
 * the gateway answers with RTP ports from its allocator, maps the streams to
 * the customer and agent legs (SIPREC_LEGS) and recognises them as any RTP
 * call. re-INVITE and UPDATE renegotiate or update the metadata, BYE ends the
 * call (`sip-bye`), OPTIONS is answered, CANCEL stops an INVITE in progress.
 * A call that ends on the gateway's side (RTP timeout, EndCall, shutdown) is
 * ended towards the SRC with a BYE.
 *
 * Who may record: SIP carries none of the gateway's tokens, so the SRC's
 * source address must be in SIPREC_ALLOW (403 otherwise); with the list
 * empty every INVITE is refused, unless authentication is off altogether or
 * SIPREC_DIGEST is set: then INVITEs answer a digest challenge (401, then
 * 403 for wrong credentials).
 *
 * Bad input gets its 4xx (400 malformed, 415 no SDP, 420 an unknown Require,
 * 481 no such dialog, 488 no stream the gateway can take, 405/501 other
 * methods), counted and logged once per source a minute; a message that
 * cannot be answered is dropped and counted. Nothing crashes the process.
 *
 * @see [RFC 7866](https://datatracker.ietf.org/doc/html/rfc7866), [RFC 3261](https://datatracker.ietf.org/doc/html/rfc3261)
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { CallManager } from '../../calls/CallManager.js';
import type { LegParams } from '../../calls/types.js';
import { GatewayError, errorMessage } from '../../errors.js';
import type { LegRole, SiprecIdentifiers, SiprecParticipant } from '../../events.js';
import type { Language } from '../../language.js';
import type { Logger } from '../../logger.js';
import type { LogLimiter } from '../../LogLimiter.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { EventFeed } from '../../calls/EventBus.js';
import type { DigestAuthenticator } from './digest.js';
import { assignLegs, type LegRule } from './legRule.js';
import { splitMultipart } from './multipart.js';
import { parseRecordingMetadata, senderOfLabel, type RecordingMetadata } from './recordingMetadata.js';
import { buildAnswer, parseOffer, type AnsweredStream, type OfferedStream } from './sdpOffer.js';
import {
  MAX_SIP_MESSAGE_BYTES,
  SipParseError,
  buildRequest,
  buildResponse,
  header,
  headerEnd,
  headerParam,
  headerUri,
  parseCSeq,
  parseContentType,
  parseSipMessage,
  type ResponseOptions,
  type SipRequest,
} from './SipMessage.js';

export interface SiprecCallDefaults {
  /** Agent id of SIPREC calls; undefined: the user part of the agent participant's AoR (`unknown` without one). */
  readonly agentId: string | undefined;
  readonly queue: string;
  readonly language: Language;
}

export interface SiprecServerOptions {
  readonly host: string;
  /** UDP and TCP on this port; 0 picks a free one. */
  readonly port: number;
  /** Host in the Contact header and the SDP answer (where the SRC sends RTP). */
  readonly advertisedHost: string;
  readonly calls: CallManager;
  readonly hub: EventFeed;
  readonly legRule: LegRule;
  /** Source addresses that may record; undefined: any (authentication off, or digest the credential). */
  readonly allow: net.BlockList | undefined;
  /** SIPREC_DIGEST: new INVITEs must answer a digest challenge. */
  readonly digest?: DigestAuthenticator | undefined;
  readonly defaults: SiprecCallDefaults;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly logLimiter: LogLimiter;
  /** TCP connections beyond this are refused at accept. */
  readonly maxConnections?: number;
}

/** Methods answered; anything else known to SIP gets 405, the unknown 501 (RFC 3261 §8.2.1). */
const ALLOWED_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'UPDATE'];
const ALLOW = ALLOWED_METHODS.join(', ');
const KNOWN_METHODS = new Set(['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'INFO', 'PRACK', 'PUBLISH']);
/** Option tags understood in Require (RFC 7866 §6.1.1: the SRC requires `siprec`). */
const SUPPORTED_OPTIONS = new Set(['siprec', 'timer']);
/** 2xx to an INVITE over UDP is resent until the ACK (RFC 3261 §13.3.1.4): T1 doubling to T2, for 64 × T1. */
const T1_MS = 500;
const T2_MS = 4000;
const ACK_WAIT_MS = 64 * T1_MS;
/** Answers to recently ended dialogs kept for retransmitted BYEs; the oldest is dropped first. */
const ENDED_KEPT = 1000;
/** SIP sessions (established or starting) at once; beyond it INVITEs get 503. */
const MAX_SESSIONS = 10_000;
/** Retry-After (s) of a 503: the drain, or no capacity right now. */
const RETRY_AFTER_S = 30;

type Transport = 'udp' | 'tcp';

/** Where a request came from and how to answer it. */
interface Peer {
  readonly transport: Transport;
  readonly address: string;
  readonly port: number;
  send(data: Buffer): void;
}

interface TakenStream {
  readonly role: LegRole;
  readonly port: number;
  readonly offered: OfferedStream;
}

interface Session {
  readonly sipCallId: string;
  readonly callId: string;
  readonly localTag: string;
  /** The INVITE's From and To, to address our BYE (From/To swapped). */
  readonly remoteFrom: string;
  readonly localTo: string;
  readonly remoteTarget: string;
  peer: Peer;
  remoteCSeq: number;
  localCSeq: number;
  /** The streams taken, by m-line index. */
  streams: Map<number, TakenStream>;
  readonly sdpSessionId: number;
  sdpVersion: number;
  identifiers: SiprecIdentifiers;
  /** The 2xx to the last INVITE, resent until the ACK over UDP. */
  lastInviteAnswer: Buffer | undefined;
  retransmit: NodeJS.Timeout | undefined;
  /** Set once our BYE is sent or theirs received: the call.ended that follows needs no BYE. */
  byeDone: boolean;
}

interface PendingInvite {
  readonly branch: string | undefined;
  cancelled: boolean;
}

export class SiprecServer {
  private readonly udp: dgram.Socket;
  private readonly tcp: net.Server;
  private readonly connections = new Set<net.Socket>();
  private readonly sessions = new Map<string, Session>();
  /** Call-ID of INVITEs still being set up (ports, recognisers). */
  private readonly pending = new Map<string, PendingInvite>();
  /** Call-ID → the answer to the BYE that ended it, for retransmissions. */
  private readonly ended = new Map<string, Buffer>();
  private readonly unsubscribe: () => void;
  private address: { udp: number; tcp: number } | undefined;
  private closed = false;

  constructor(private readonly options: SiprecServerOptions) {
    this.udp = dgram.createSocket({ type: net.isIPv6(options.host) ? 'udp6' : 'udp4' });
    this.udp.on('message', (data, rinfo) => {
      const peer: Peer = { transport: 'udp', address: rinfo.address, port: rinfo.port, send: (out) => this.udp.send(out, rinfo.port, rinfo.address) };
      this.receive(data, peer);
    });
    this.udp.on('error', (err) => options.logger.error({ err }, 'SIP UDP socket error'));
    this.tcp = net.createServer((socket) => this.accept(socket));
    this.tcp.maxConnections = options.maxConnections ?? 1000;
    this.tcp.on('drop', () => this.bad('too_many_connections'));
    // A call ended on the gateway's side (RTP timeout, EndCall, shutdown) is ended towards the SRC too.
    this.unsubscribe = options.hub.subscribe((event, _owner, local) => {
      // Its own calls only: in a cluster the bus also carries other gateways' (the same call id may be another SRS's session there).
      if (!local || event.type !== 'call.ended') return;
      for (const session of this.sessions.values()) if (session.callId === event.callId) this.hangUp(session);
    }, 'siprec');
  }

  /** Binds TCP, then UDP on the same port (a port 0 pick is retried if UDP has it taken). */
  async listen(): Promise<{ port: number }> {
    const { options } = this;
    for (let attempt = 0; ; attempt++) {
      const port = await new Promise<number>((resolve, reject) => {
        this.tcp.once('error', reject);
        this.tcp.listen(options.port, options.host, () => {
          this.tcp.off('error', reject);
          resolve((this.tcp.address() as net.AddressInfo).port);
        });
      });
      try {
        await new Promise<void>((resolve, reject) => {
          this.udp.once('error', reject);
          this.udp.bind(port, options.host, () => {
            this.udp.off('error', reject);
            resolve();
          });
        });
        this.tcp.on('error', (err) => options.logger.error({ err }, 'SIP TCP listener error'));
        this.address = { udp: port, tcp: port };
        return { port };
      } catch (err) {
        await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
        if (options.port !== 0 || attempt >= 5) throw err;
      }
    }
  }

  private accept(socket: net.Socket): void {
    this.connections.add(socket);
    const address = socket.remoteAddress ?? '?';
    const port = socket.remotePort ?? 0;
    const peer: Peer = { transport: 'tcp', address, port, send: (out) => socket.writable && socket.write(out) };
    let buffered: Buffer = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // Framed by Content-Length (RFC 3261 §18.3); CRLF keep-alives (RFC 5626 §3.5.1) are answered with CRLF.
      for (;;) {
        if (buffered.subarray(0, 4).toString('latin1') === '\r\n\r\n') {
          socket.write('\r\n');
          buffered = buffered.subarray(4);
          continue;
        }
        const lead = leadingNewlines(buffered);
        if (lead > 0) buffered = buffered.subarray(lead);
        const end = headerEnd(buffered);
        if (end === undefined) {
          if (buffered.length > MAX_SIP_MESSAGE_BYTES) this.dropConnection(socket, 'oversize');
          return;
        }
        const length = contentLength(buffered.subarray(0, end.at).toString('latin1'));
        if (length === undefined || end.at + end.length + length > MAX_SIP_MESSAGE_BYTES) {
          // Over TCP the length must be there and sane: without it the stream cannot be framed.
          this.receive(buffered, peer, length === undefined ? 'Content-Length is required over TCP' : 'message too large');
          this.dropConnection(socket, length === undefined ? 'no_content_length' : 'oversize');
          return;
        }
        const total = end.at + end.length + length;
        if (buffered.length < total) return;
        const message = buffered.subarray(0, total);
        buffered = buffered.subarray(total);
        this.receive(message, peer);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
  }

  private dropConnection(socket: net.Socket, reason: string): void {
    this.bad(reason);
    socket.end();
    socket.destroy();
  }

  /** One whole message from `peer`; `framingProblem` when TCP framing failed (answered 400 if it can be). */
  private receive(data: Buffer, peer: Peer, framingProblem?: string): void {
    let parsed: ReturnType<typeof parseSipMessage>;
    try {
      if (framingProblem !== undefined) throw new SipParseError(framingProblem, headersOnly(data));
      parsed = parseSipMessage(data);
    } catch (err) {
      const request = err instanceof SipParseError ? err.request : undefined;
      const problem = errorMessage(err);
      this.refuseLogged(peer, 'bad_message', problem);
      if (request !== undefined && request.method !== 'ACK') this.respond(peer, request, 400, { reason: `Bad Request (${problem})` });
      return;
    }
    if ('response' in parsed) {
      // Only answers to our BYEs come back; nothing waits on them.
      this.options.metrics.ingestMessages.inc({ protocol: 'siprec', type: 'response' });
      return;
    }
    const { request } = parsed;
    this.options.metrics.ingestMessages.inc({ protocol: 'siprec', type: KNOWN_METHODS.has(request.method) || ALLOWED_METHODS.includes(request.method) ? request.method : 'other' });
    try {
      this.route(request, peer);
    } catch (err) {
      // A bug here must not take the gateway down: the SRC gets a 500 and the line is logged.
      this.options.logger.error({ err, method: request.method }, 'SIP request failed');
      if (request.method !== 'ACK') this.respond(peer, request, 500);
    }
  }

  private route(request: SipRequest, peer: Peer): void {
    const sipCallId = header(request, 'call-id') ?? '';
    switch (request.method) {
      case 'OPTIONS':
        this.respond(peer, request, 200, { headers: [['Allow', ALLOW], ['Accept', 'application/sdp, multipart/mixed, application/rs-metadata+xml'], ['Supported', 'siprec']] });
        return;
      case 'INVITE': {
        const session = this.sessions.get(sipCallId);
        if (headerParam(header(request, 'to'), 'tag') === undefined) {
          if (session !== undefined && parseCSeq(request)?.seq === session.remoteCSeq && session.lastInviteAnswer !== undefined) {
            peer.send(session.lastInviteAnswer); // a retransmission of the INVITE we answered
            return;
          }
          if (this.pending.has(sipCallId)) {
            this.respond(peer, request, 100);
            return;
          }
          this.invite(request, peer, sipCallId).catch((err: unknown) => {
            // As in receive(): a bug must not take the gateway down (an unhandled rejection would).
            this.pending.delete(sipCallId);
            this.options.logger.error({ err }, 'SIPREC INVITE failed');
            this.respond(peer, request, 500, { toTag: randomTag() });
          });
          return;
        }
        if (session === undefined) {
          this.respond(peer, request, 481);
          return;
        }
        this.reinvite(session, request, peer);
        return;
      }
      case 'UPDATE': {
        const session = this.sessions.get(sipCallId);
        if (session === undefined) this.respond(peer, request, 481);
        else this.reinvite(session, request, peer);
        return;
      }
      case 'ACK': {
        const session = this.sessions.get(sipCallId);
        if (session !== undefined) {
          clearTimeout(session.retransmit);
          session.retransmit = undefined;
        }
        return;
      }
      case 'BYE':
        this.bye(request, peer, sipCallId);
        return;
      case 'CANCEL': {
        const pending = this.pending.get(sipCallId);
        if (pending === undefined) {
          this.respond(peer, request, 481);
          return;
        }
        pending.cancelled = true;
        this.respond(peer, request, 200);
        return;
      }
      default:
        if (KNOWN_METHODS.has(request.method)) this.respond(peer, request, 405, { headers: [['Allow', ALLOW]] });
        else this.respond(peer, request, 501, { headers: [['Allow', ALLOW]] });
    }
  }

  /** A new recording session. */
  private async invite(request: SipRequest, peer: Peer, sipCallId: string): Promise<void> {
    const { options } = this;
    const refuse = (status: number, reason: string, detail: string, extra: ResponseOptions = {}): void => {
      this.refuseLogged(peer, reason, detail);
      options.metrics.ingestSessions.inc({ protocol: 'siprec', outcome: 'refused' });
      this.respond(peer, request, status, { toTag: randomTag(), ...extra });
    };
    if (options.allow !== undefined && !options.allow.check(peer.address, net.isIPv6(peer.address) ? 'ipv6' : 'ipv4')) {
      refuse(403, 'forbidden_source', `source ${peer.address} is not in SIPREC_ALLOW`, { reason: 'Forbidden (source not allowed to record)' });
      return;
    }
    if (options.digest !== undefined) {
      const outcome = options.digest.verify('INVITE', header(request, 'authorization'));
      if (outcome === 'missing' || outcome === 'stale') {
        // The challenge is the normal first step, not bad input: counted with the responses only.
        this.respond(peer, request, 401, { toTag: randomTag(), headers: [['WWW-Authenticate', options.digest.challenge(outcome === 'stale')]] });
        return;
      }
      if (outcome === 'wrong') {
        refuse(403, 'bad_credentials', 'digest credentials do not verify', { reason: 'Forbidden (bad credentials)' });
        return;
      }
    }
    const unsupported = (request.headers.get('require') ?? []).filter((tag) => !SUPPORTED_OPTIONS.has(tag.toLowerCase()));
    if (unsupported.length > 0) {
      refuse(420, 'bad_extension', `Require: ${unsupported.join(', ')}`, { headers: [['Unsupported', unsupported.join(', ').slice(0, 200)]] });
      return;
    }
    try {
      options.calls.admit('siprec');
    } catch (err) {
      const draining = err instanceof GatewayError;
      refuse(503, 'unavailable', errorMessage(err), { headers: [['Retry-After', String(RETRY_AFTER_S)]], reason: draining ? `Service Unavailable (${err.code})` : undefined });
      return;
    }
    const body = readBody(request);
    if (typeof body === 'string') {
      refuse(body.startsWith('415') ? 415 : 400, 'bad_body', body.slice(4), body.startsWith('415') ? { headers: [['Accept', 'application/sdp, multipart/mixed']] } : { reason: `Bad Request (${body.slice(4)})` });
      return;
    }
    if (body.sdp === undefined) {
      refuse(415, 'bad_body', 'no SDP offer', { headers: [['Accept', 'application/sdp, multipart/mixed']] });
      return;
    }
    const offer = parseOffer(body.sdp);
    if (typeof offer === 'string') {
      refuse(400, 'bad_sdp', offer, { reason: `Bad Request (${offer})` });
      return;
    }
    const taken = offer.filter((s) => typeof s.codec !== 'string');
    if (taken.length === 0) {
      const why = offer.map((s) => `m-line ${s.index}: ${typeof s.codec === 'string' ? s.codec : s.codec.name}`).join('; ');
      refuse(488, 'no_usable_stream', why, { headers: [['Warning', `304 speech-gateway "${why.replace(/"/g, "'").slice(0, 200)}"`]] });
      return;
    }
    if (this.sessions.size + this.pending.size >= MAX_SESSIONS) {
      refuse(503, 'too_many_sessions', `${MAX_SESSIONS} SIPREC sessions`, { headers: [['Retry-After', String(RETRY_AFTER_S)]] });
      return;
    }
    const metadata = body.metadata;
    const { roles, fallback } = assignLegs(
      options.legRule,
      taken.map((s) => ({ label: s.label, senderAor: metadata === undefined || s.label === undefined ? undefined : senderOfLabel(metadata, s.label)?.aor })),
    );
    if (fallback) options.logger.info({ sipCallId: sipCallId.slice(0, 128), rule: options.legRule.kind }, 'SIPREC_LEGS could not decide this session; the first stream is the customer');
    const legsByIndex = new Map<number, LegRole>();
    taken.forEach((s, i) => {
      const role = roles.get(i);
      if (role !== undefined) legsByIndex.set(s.index, role);
    });
    const pending: PendingInvite = { branch: headerParam(request.headers.get('via')?.[0], 'branch'), cancelled: false };
    this.pending.set(sipCallId, pending);
    this.respond(peer, request, 100);
    const localTag = randomTag();
    const callId = `siprec-${randomUUID()}`;
    const identifiers = describe(sipCallId, metadata, offer, legsByIndex);
    const ordered = [...legsByIndex.entries()].sort(([a], [b]) => a - b);
    const legs: LegParams[] = ordered.map(([index, role]) => ({ role, codec: (offer[index] as OfferedStream).codec as Exclude<OfferedStream['codec'], string> }));
    let snapshot;
    try {
      snapshot = await options.calls.start(
        {
          callId,
          agentId: options.defaults.agentId ?? agentFromAor(identifiers) ?? 'unknown',
          queue: options.defaults.queue,
          language: options.defaults.language,
          legs,
          transcriptsOnly: false,
          siprec: identifiers,
        },
        `siprec:${peer.address}`,
        'siprec',
      );
    } catch (err) {
      this.pending.delete(sipCallId);
      if (pending.cancelled) {
        this.respond(peer, request, 487, { toTag: localTag });
        return;
      }
      const code = err instanceof GatewayError ? err.code : undefined;
      const status = code === undefined || code === 'SGW_CONFIG' ? 500 : code === 'SGW_CALL_EXISTS' ? 491 : 503;
      this.refuseLogged(peer, 'call_refused', errorMessage(err));
      options.metrics.ingestSessions.inc({ protocol: 'siprec', outcome: status === 503 ? 'overloaded' : 'refused' });
      this.respond(peer, request, status, { toTag: localTag, reason: code === undefined ? undefined : `${status === 503 ? 'Service Unavailable' : 'Server Internal Error'} (${code})`, ...(status === 503 ? { headers: [['Retry-After', String(RETRY_AFTER_S)]] } : {}) });
      return;
    }
    this.pending.delete(sipCallId);
    if (pending.cancelled || this.closed) {
      this.respond(peer, request, 487, { toTag: localTag });
      void options.calls.end(callId, 'ended-by-request').catch(() => undefined);
      return;
    }
    const streams = new Map<number, TakenStream>();
    for (const leg of snapshot.legs) {
      const index = ordered.find(([, role]) => role === leg.role)?.[0];
      if (index !== undefined && leg.rtpPort !== undefined) streams.set(index, { role: leg.role, port: leg.rtpPort, offered: offer[index] as OfferedStream });
    }
    const session: Session = {
      sipCallId,
      callId,
      localTag,
      remoteFrom: header(request, 'from') ?? '',
      localTo: header(request, 'to') ?? '',
      remoteTarget: headerUri(header(request, 'contact')) ?? headerUri(header(request, 'from')) ?? request.uri,
      peer,
      remoteCSeq: parseCSeq(request)?.seq ?? 0,
      localCSeq: randomInt(1, 10_000),
      streams,
      sdpSessionId: randomInt(1, 2 ** 31),
      sdpVersion: 1,
      identifiers,
      lastInviteAnswer: undefined,
      retransmit: undefined,
      byeDone: false,
    };
    this.sessions.set(sipCallId, session);
    options.metrics.ingestSessions.inc({ protocol: 'siprec', outcome: 'opened' });
    options.logger.info({ callId, sipCallId: sipCallId.slice(0, 128), from: `${peer.transport}:${peer.address}`, legs: [...streams.values()].map((s) => `${s.role}:${s.port}:${(s.offered.codec as { name: string }).name}`), fallback }, 'SIPREC session started');
    this.answerInvite(session, request, offer);
  }

  /** Sends the 200 with the SDP answer, resent over UDP until the ACK. */
  private answerInvite(session: Session, request: SipRequest, offer: readonly OfferedStream[]): void {
    const answered: AnsweredStream[] = offer.map((offered) => {
      const taken = session.streams.get(offered.index);
      return { offered: taken?.offered ?? offered, port: taken?.port };
    });
    const sdp = buildAnswer(this.options.advertisedHost, session.sdpSessionId, session.sdpVersion, answered);
    const response = buildResponse(request, 200, {
      toTag: session.localTag,
      headers: [
        ['Contact', `<sip:srs@${hostPort(this.options.advertisedHost, this.address?.udp ?? 0)};transport=${session.peer.transport}>`],
        ['Allow', ALLOW],
        ['Supported', 'siprec, timer'],
        ...sessionTimer(request),
      ],
      body: { type: 'application/sdp', content: sdp },
    });
    session.lastInviteAnswer = response;
    session.peer.send(response);
    this.countResponse(request.method, 200);
    if (session.peer.transport !== 'udp') return;
    clearTimeout(session.retransmit);
    const started = Date.now();
    const resend = (interval: number): void => {
      session.retransmit = setTimeout(() => {
        if (Date.now() - started >= ACK_WAIT_MS) {
          // No ACK: the SRC is gone (RFC 3261 §13.3.1.4); the call ends and a BYE is tried.
          session.retransmit = undefined;
          this.options.logger.warn({ callId: session.callId }, 'SIPREC INVITE answer never acknowledged; ending the call');
          void this.options.calls.end(session.callId, 'ended-by-request').catch(() => undefined);
          return;
        }
        session.peer.send(response);
        resend(Math.min(interval * 2, T2_MS));
      }, interval);
      session.retransmit.unref();
    };
    resend(T1_MS);
  }

  /**
   * re-INVITE or UPDATE in a session: new metadata replaces the identifiers;
   * an SDP offer is answered with the same ports and codecs (a leg cannot
   * change codec mid-call: an offer without it gets 488).
   */
  private reinvite(session: Session, request: SipRequest, peer: Peer): void {
    const cseq = parseCSeq(request)?.seq ?? 0;
    if (request.method === 'INVITE' && cseq === session.remoteCSeq && session.lastInviteAnswer !== undefined) {
      peer.send(session.lastInviteAnswer);
      return;
    }
    const body = request.body.length === 0 ? { sdp: undefined, metadata: undefined } : readBody(request, true);
    if (typeof body === 'string') {
      this.refuseLogged(peer, 'bad_body', body.slice(4));
      this.respond(peer, request, body.startsWith('415') ? 415 : 400, { reason: body.startsWith('415') ? undefined : `Bad Request (${body.slice(4)})` });
      return;
    }
    if (body.metadata !== undefined) {
      const legsByIndex = new Map([...session.streams].map(([index, s]) => [index, s.role] as const));
      session.identifiers = describe(session.sipCallId, body.metadata, [...session.streams.values()].map((s) => s.offered), legsByIndex);
      try {
        this.options.calls.updateSiprec(session.callId, session.identifiers);
      } catch {
        // The call ended meanwhile; the BYE that follows closes the dialog.
      }
      this.options.logger.info({ callId: session.callId, participants: session.identifiers.participants.length }, 'SIPREC metadata updated');
    }
    session.remoteCSeq = Math.max(session.remoteCSeq, cseq);
    session.peer = peer;
    if (body.sdp === undefined) {
      if (request.method === 'INVITE') {
        // An INVITE without an offer asks for one (RFC 3264 §4): the current streams are offered as they are.
        this.answerInvite(session, request, [...session.streams.values()].map((s) => s.offered));
      } else {
        this.respond(peer, request, 200, { toTag: session.localTag, headers: sessionTimer(request) });
      }
      return;
    }
    const offer = parseOffer(body.sdp);
    if (typeof offer === 'string') {
      this.respond(peer, request, 400, { reason: `Bad Request (${offer})` });
      return;
    }
    for (const [index, taken] of session.streams) {
      const now = offer[index];
      const same = now !== undefined && typeof now.codec !== 'string' && now.codec.name === (taken.offered.codec as { name: string }).name && now.codec.clockRate === (taken.offered.codec as { clockRate: number }).clockRate;
      if (!same && now !== undefined && now.direction !== 'inactive' && now.source?.port !== 0) {
        this.refuseLogged(peer, 'codec_change', `m-line ${index} no longer offers the leg's codec`);
        this.respond(peer, request, 488, { headers: [['Warning', `305 speech-gateway "m-line ${index} must keep its codec"`]] });
        return;
      }
      if (now !== undefined) session.streams.set(index, { ...taken, offered: { ...now, codec: taken.offered.codec } });
    }
    session.sdpVersion++;
    if (request.method === 'INVITE') {
      this.answerInvite(session, request, offer);
    } else {
      const sdp = buildAnswer(this.options.advertisedHost, session.sdpSessionId, session.sdpVersion, offer.map((o) => ({ offered: session.streams.get(o.index)?.offered ?? o, port: session.streams.get(o.index)?.port })));
      this.respond(peer, request, 200, { toTag: session.localTag, headers: sessionTimer(request), body: { type: 'application/sdp', content: sdp } });
    }
  }

  private bye(request: SipRequest, peer: Peer, sipCallId: string): void {
    const session = this.sessions.get(sipCallId);
    if (session === undefined) {
      const answered = this.ended.get(sipCallId);
      if (answered !== undefined) peer.send(answered);
      else this.respond(peer, request, 481);
      return;
    }
    session.byeDone = true;
    this.forget(session);
    const response = buildResponse(request, 200, { toTag: session.localTag });
    this.remember(sipCallId, response);
    peer.send(response);
    this.countResponse(request.method, 200);
    void this.options.calls.end(session.callId, 'sip-bye').catch(() => undefined);
  }

  /** Ends the SIP dialog from our side (the call ended here): a BYE to the SRC, best effort. */
  private hangUp(session: Session): void {
    this.forget(session);
    if (session.byeDone) return;
    session.byeDone = true;
    const via = `SIP/2.0/${session.peer.transport.toUpperCase()} ${hostPort(this.options.advertisedHost, this.address?.udp ?? 0)};branch=z9hG4bK${randomBytes(8).toString('hex')};rport`;
    const bye = buildRequest('BYE', session.remoteTarget, [
      ['Via', via],
      ['Max-Forwards', '70'],
      ['From', `${session.localTo};tag=${session.localTag}`],
      ['To', session.remoteFrom],
      ['Call-ID', session.sipCallId],
      ['CSeq', `${++session.localCSeq} BYE`],
    ]);
    session.peer.send(bye);
    this.options.metrics.ingestMessages.inc({ protocol: 'siprec', type: 'BYE-sent' });
  }

  private forget(session: Session): void {
    clearTimeout(session.retransmit);
    this.sessions.delete(session.sipCallId);
  }

  private remember(sipCallId: string, response: Buffer): void {
    this.ended.set(sipCallId, response);
    for (const key of this.ended.keys()) {
      if (this.ended.size <= ENDED_KEPT) break;
      this.ended.delete(key);
    }
  }

  private respond(peer: Peer, request: SipRequest, status: number, options: ResponseOptions = {}): void {
    peer.send(buildResponse(request, status, options));
    this.countResponse(request.method, status);
  }

  private countResponse(method: string, status: number): void {
    this.options.metrics.sipResponses.inc({ method: ALLOWED_METHODS.includes(method) ? method : 'other', status: String(status) });
  }

  private bad(reason: string): void {
    this.options.metrics.ingestProtocolErrors.inc({ protocol: 'siprec', reason });
  }

  private refuseLogged(peer: Peer, reason: string, detail: string): void {
    this.bad(reason);
    this.options.logLimiter.log(this.options.logger, 'warn', 'siprec-refused', peer.address, { reason, detail: detail.slice(0, 200), transport: peer.transport }, 'SIPREC request refused');
  }

  /** Stops listening; the calls are ended by the shutdown (call.ended then sends each SRC its BYE). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions.values()]) this.hangUp(session);
    this.unsubscribe();
    await new Promise<void>((resolve) => {
      try {
        this.udp.close(() => resolve());
      } catch {
        resolve();
      }
    });
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

/**
 * The SDP and the metadata of a request body: application/sdp alone, or
 * multipart/mixed with an application/sdp part and (optionally) an
 * application/rs-metadata+xml part. `allowMetadataOnly` for re-INVITE and
 * UPDATE, which may carry metadata alone.
 * @returns the parts, or `"<status> <problem>"`.
 */
function readBody(request: SipRequest, allowMetadataOnly = false): { sdp: string | undefined; metadata: RecordingMetadata | undefined } | string {
  const contentType = parseContentType(header(request, 'content-type'));
  const text = request.body.toString('utf8');
  if (contentType === undefined || request.body.length === 0) return '415 the INVITE has no SDP offer (RFC 7866 §8.1.1: multipart/mixed with application/sdp)';
  if (contentType.type === 'application/sdp') return { sdp: text, metadata: undefined };
  if (contentType.type === 'application/rs-metadata+xml' && allowMetadataOnly) {
    const metadata = parseRecordingMetadata(text);
    return typeof metadata === 'string' ? `400 ${metadata}` : { sdp: undefined, metadata };
  }
  if (contentType.type !== 'multipart/mixed') return `415 content type ${contentType.type.slice(0, 60)} is not application/sdp or multipart/mixed`;
  const parts = splitMultipart(text, contentType.params.get('boundary') ?? '');
  if (typeof parts === 'string') return `400 ${parts}`;
  const sdpPart = parts.find((p) => p.type === 'application/sdp');
  const metadataPart = parts.find((p) => p.type === 'application/rs-metadata+xml');
  if (sdpPart === undefined && !allowMetadataOnly) return '415 the multipart body has no application/sdp part';
  let metadata: RecordingMetadata | undefined;
  if (metadataPart !== undefined) {
    const parsed = parseRecordingMetadata(metadataPart.content);
    if (typeof parsed === 'string') return `400 ${parsed}`;
    metadata = parsed;
  }
  return { sdp: sdpPart?.content, metadata };
}

/** The identifiers of a session: each participant with the leg of a stream it sends. */
function describe(sipCallId: string, metadata: RecordingMetadata | undefined, offer: readonly OfferedStream[], legs: ReadonlyMap<number, LegRole>): SiprecIdentifiers {
  const participants: SiprecParticipant[] = [];
  for (const p of metadata?.participants ?? []) {
    if (p.aor === undefined) continue;
    let leg: LegRole | undefined;
    for (const [index, role] of legs) {
      const label = offer.find((o) => o.index === index)?.label;
      if (label !== undefined && metadata !== undefined && senderOfLabel(metadata, label)?.id === p.id) leg = role;
    }
    participants.push({ aor: p.aor, ...(p.name === undefined ? {} : { name: p.name }), ...(leg === undefined ? {} : { leg }) });
  }
  return {
    sipCallId: sipCallId.slice(0, 256),
    ...(metadata?.sessionId === undefined ? {} : { sessionId: metadata.sessionId }),
    ...(metadata?.sipSessionId === undefined ? {} : { sipSessionId: metadata.sipSessionId }),
    participants,
  };
}

/**
 * Session timer headers of a 2xx (RFC 4028 §9): a request with Session-Expires
 * gets it back with the SRC as the refresher, so the SRC sends the refreshes
 * (re-INVITE or UPDATE, answered 200). The gateway does not end a session
 * whose refresh is late: RTP_TIMEOUT_MS ends a recording that stopped.
 */
function sessionTimer(request: SipRequest): [string, string][] {
  const interval = /^\s*(\d{1,9})/.exec(header(request, 'session-expires') ?? '')?.[1];
  return interval === undefined ? [] : [['Session-Expires', `${interval};refresher=uac`], ['Require', 'timer']];
}

/** The agent id from the agent participant's AoR: its user part (`sip:agent-007@pbx` → `agent-007`). */
function agentFromAor(identifiers: SiprecIdentifiers): string | undefined {
  const aor = identifiers.participants.find((p) => p.leg === 'agent')?.aor;
  const user = aor === undefined ? undefined : /^(?:sips?|tel):([^@;>]+)/i.exec(aor)?.[1];
  return user === undefined || user === '' ? undefined : user.slice(0, 128);
}

function randomTag(): string {
  return randomBytes(6).toString('hex');
}

function hostPort(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

function leadingNewlines(data: Buffer): number {
  let i = 0;
  while (i < data.length && (data[i] === 0x0d || data[i] === 0x0a)) i++;
  // A lone "\r\n\r\n" is a keep-alive, handled by the caller; partial ones wait for more.
  return i === data.length ? 0 : i;
}

/** The Content-Length of a header block, undefined when absent or malformed. */
function contentLength(head: string): number | undefined {
  const match = /^(?:content-length|l)[ \t]*:[ \t]*(\d{1,6})[ \t]*$/im.exec(head);
  return match === null ? undefined : Number(match[1]);
}

/** The request of a message that cannot be framed, read from its headers alone (Content-Length dropped), so that it can be answered 400. */
function headersOnly(data: Buffer): SipRequest | undefined {
  const end = headerEnd(data);
  if (end === undefined) return undefined;
  const head = data.subarray(0, end.at).toString('latin1').replace(/^(?:content-length|l)[ \t]*:.*$/gim, 'X-Dropped: length');
  try {
    const parsed = parseSipMessage(Buffer.from(`${head}\r\n\r\n`, 'latin1'));
    return 'request' in parsed ? parsed.request : undefined;
  } catch (err) {
    return err instanceof SipParseError ? err.request : undefined;
  }
}
