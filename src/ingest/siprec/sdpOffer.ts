/**
 * The SRC's SDP offer and the SRS's answer (RFC 3264 offer/answer, SDP of
 * RFC 8866): one audio m-line per recorded stream (RFC 7866 §8.1.1), each
 * answered `recvonly` on a port of the gateway's RTP allocator with one
 * codec the gateway decodes (the first of the offer's, in its order) and
 * telephone-event when offered. A stream the gateway cannot take (no codec
 * it decodes, SRTP, not audio) is refused with port 0 (RFC 3264 §6).
 * Parsed with sdp-transform.
 *
 * @see [RFC 3264 §6](https://datatracker.ietf.org/doc/html/rfc3264#section-6),
 *   [RFC 7866 §8.1](https://datatracker.ietf.org/doc/html/rfc7866#section-8.1)
 */
import sdpTransform from 'sdp-transform';
import { validateCodec, type CodecSpec } from '../../audio/codecs/index.js';

/** One m-line of the offer. */
export interface OfferedStream {
  /** Position among all m-lines (the answer has the same, RFC 3264 §6). */
  readonly index: number;
  readonly mediaType: string;
  readonly protocol: string;
  /** The payload types offered, in order (one is echoed in a refused m-line). */
  readonly formats: string;
  /** `a=label` (RFC 4574), which the metadata's streams refer to. */
  readonly label: string | undefined;
  /** The codec taken, or why the stream is refused. */
  readonly codec: CodecSpec | string;
  /** The SRC's announced RTP address, when the SDP has one. */
  readonly source: { readonly address: string; readonly port: number } | undefined;
  readonly direction: 'sendrecv' | 'recvonly' | 'sendonly' | 'inactive';
}

/** Encoding names as SDP writes them, for the ones the gateway decodes. */
const SDP_NAMES: Readonly<Record<CodecSpec['name'], string>> = { PCMU: 'PCMU', PCMA: 'PCMA', G722: 'G722', L16: 'L16', OPUS: 'opus' };

const STATIC_NAMES: Readonly<Record<number, { name: string; rate: number }>> = { 0: { name: 'PCMU', rate: 8000 }, 8: { name: 'PCMA', rate: 8000 }, 9: { name: 'G722', rate: 8000 } };

/**
 * Reads an offer.
 * @returns its m-lines, or a one-line problem (not SDP, no m-line).
 */
export function parseOffer(sdp: string): OfferedStream[] | string {
  if (!/^v=0\r?$/m.test(sdp)) return 'SDP has no v=0 line';
  let session: sdpTransform.SessionDescription;
  try {
    session = sdpTransform.parse(sdp);
  } catch (err) {
    return `SDP could not be parsed: ${err instanceof Error ? err.message.slice(0, 80) : 'unknown error'}`;
  }
  const media = session.media;
  if (media.length === 0) return 'SDP has no m-line';
  if (media.length > 16) return `SDP has ${media.length} m-lines; a recording session has a few`;
  try {
    return media.map((m, index) => {
      // sdp-transform types fields by the grammar, but a mangled line can leave them missing or numeric.
      const line: sdpTransform.MediaDescription = { ...m, type: String(m.type ?? ''), protocol: String(m.protocol ?? ''), port: Number(m.port) };
      const address = line.connection?.ip ?? session.connection?.ip;
      const label = line.label === undefined ? undefined : String(line.label).slice(0, 64);
      const formats = String(line.payloads ?? '').trim();
      return {
        index,
        mediaType: line.type.slice(0, 20) || 'audio',
        protocol: line.protocol.slice(0, 20) || 'RTP/AVP',
        formats,
        label,
        codec: chooseCodec(line),
        source: typeof address !== 'string' || !Number.isInteger(line.port) ? undefined : { address, port: line.port },
        direction: line.direction ?? session.direction ?? 'sendrecv',
      };
    });
  } catch (err) {
    return `SDP could not be read: ${err instanceof Error ? err.message.slice(0, 80) : 'unknown error'}`;
  }
}

function chooseCodec(m: sdpTransform.MediaDescription): CodecSpec | string {
  if (m.type !== 'audio') return `${m.type} stream`;
  if (!/^RTP\/AVPF?$/.test(m.protocol)) return `transport ${m.protocol.slice(0, 20)} (only RTP/AVP: no SRTP)`;
  if (m.port === 0) return 'stream disabled by the SRC (port 0)';
  const payloads = String(m.payloads ?? '')
    .trim()
    .split(/\s+/)
    .map(Number)
    .filter((pt) => Number.isInteger(pt));
  const rtpmap = new Map((m.rtp ?? []).map((r) => [r.payload, r]));
  let telephoneEvent: number | undefined;
  for (const r of m.rtp ?? []) if (r.codec.toLowerCase() === 'telephone-event' && telephoneEvent === undefined) telephoneEvent = r.payload;
  for (const pt of payloads) {
    const mapped = rtpmap.get(pt);
    const named = mapped === undefined ? STATIC_NAMES[pt] : { name: mapped.codec, rate: mapped.rate };
    if (named === undefined) continue;
    const channels = mapped?.encoding === undefined ? 1 : Number(mapped.encoding);
    const isOpus = named.name.toLowerCase() === 'opus';
    // Opus is always written opus/48000/2 (RFC 7587 §7); other codecs are taken mono only.
    if (!isOpus && channels !== 1) continue;
    const spec = validateCodec({ name: named.name, clockRate: named.rate, payloadType: pt });
    if (typeof spec === 'string') continue;
    return telephoneEvent === undefined ? spec : { ...spec, telephoneEventPayloadType: telephoneEvent };
  }
  return `no codec the gateway decodes among '${String(m.payloads ?? '').slice(0, 40)}' (PCMU, PCMA, G722, opus, L16)`;
}

/** What the answer says about one m-line: taken on `port`, or refused. */
export interface AnsweredStream {
  readonly offered: OfferedStream;
  /** The leg's RTP port; undefined: refused (port 0). */
  readonly port: number | undefined;
}

/**
 * Writes the answer: the m-lines in the offer's order, each taken stream
 * `recvonly` with its codec (and telephone-event), RTCP on port + 1.
 */
export function buildAnswer(host: string, sessionId: number, version: number, streams: readonly AnsweredStream[]): string {
  const ipVersion = host.includes(':') ? 'IP6' : 'IP4';
  const lines = [`v=0`, `o=speech-gateway ${sessionId} ${version} IN ${ipVersion} ${host}`, `s=speech-gateway SIPREC recording`, `c=IN ${ipVersion} ${host}`, `t=0 0`];
  for (const { offered, port } of streams) {
    const codec = offered.codec;
    if (port === undefined || typeof codec === 'string') {
      const format = offered.formats.split(/\s+/)[0] ?? '0';
      lines.push(`m=${offered.mediaType} 0 ${offered.protocol} ${format === '' ? '0' : format}`);
      continue;
    }
    const te = codec.telephoneEventPayloadType;
    lines.push(`m=audio ${port} RTP/AVP ${codec.payloadType}${te === undefined ? '' : ` ${te}`}`);
    lines.push(`a=rtpmap:${codec.payloadType} ${SDP_NAMES[codec.name]}/${codec.clockRate}${codec.name === 'OPUS' ? '/2' : ''}`);
    if (te !== undefined) lines.push(`a=rtpmap:${te} telephone-event/${codec.name === 'OPUS' ? 48000 : 8000}`, `a=fmtp:${te} 0-16`);
    lines.push(`a=rtcp:${port + 1}`);
    if (offered.label !== undefined) lines.push(`a=label:${offered.label}`);
    lines.push(offered.direction === 'inactive' ? 'a=inactive' : 'a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}
