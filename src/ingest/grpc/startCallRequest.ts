import { randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { DYNAMIC_PT_MAX, DYNAMIC_PT_MIN, validateCodec } from '../../audio/codecs/index.js';
import type { CodecName } from '../../audio/codecs/Codec.js';
import type { LegParams, StartCallParams } from '../../calls/types.js';
import { invalidArgument } from '../../errors.js';
import { LANGUAGES, isLanguage } from '../../language.js';
import type { LegRole } from '../../events.js';
import type { ExpectedSource } from '../rtp/SourceLatch.js';
import type { RtpSource__Output } from './generated/speechgateway/v1/RtpSource.js';
import type { StartCallRequest__Output } from './generated/speechgateway/v1/StartCallRequest.js';

const CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_LABEL = 128;

const ROLES: Readonly<Record<string, LegRole>> = { LEG_ROLE_CUSTOMER: 'customer', LEG_ROLE_AGENT: 'agent' };
const CODECS: Readonly<Record<string, CodecName>> = { CODEC_PCMU: 'PCMU', CODEC_PCMA: 'PCMA', CODEC_L16: 'L16', CODEC_G722: 'G722', CODEC_OPUS: 'OPUS' };

/**
 * Checks a StartCall request field by field. Throws INVALID_ARGUMENT naming
 * the first bad field (`legs[1].payload_type: ...`).
 */
export function parseStartCallRequest(request: StartCallRequest__Output): StartCallParams {
  const callId = request.call_id === '' ? randomUUID() : request.call_id;
  if (!CALL_ID.test(callId)) throw invalidArgument('call_id', 'must be 1-128 characters of [A-Za-z0-9._:-]');
  if (request.agent_id.length > MAX_LABEL) throw invalidArgument('agent_id', `longer than ${MAX_LABEL} characters`);
  if (request.queue.length > MAX_LABEL) throw invalidArgument('queue', `longer than ${MAX_LABEL} characters`);
  if (!isLanguage(request.language)) {
    throw invalidArgument('language', `must be one of ${LANGUAGES.join(', ')}, got '${request.language.slice(0, 20)}'`);
  }
  if (request.legs.length === 0 || request.legs.length > 2) {
    throw invalidArgument('legs', `must hold one or two legs, got ${request.legs.length}`);
  }
  const legs: LegParams[] = [];
  request.legs.forEach((leg, index) => {
    const field = `legs[${index}]`;
    const role = ROLES[leg.role];
    if (role === undefined) throw invalidArgument(`${field}.role`, 'must be LEG_ROLE_CUSTOMER or LEG_ROLE_AGENT');
    if (legs.some((l) => l.role === role)) throw invalidArgument(`${field}.role`, `a second ${role} leg`);
    const expectedSource = parseExpectedSource(leg.expected_source, `${field}.expected_source`);
    if (request.transcripts_only) {
      // No media: the codec is not used, only the role.
      legs.push({ role, codec: { name: 'L16', clockRate: 16000, payloadType: 96 } });
      return;
    }
    const name = CODECS[leg.codec];
    if (name === undefined) throw invalidArgument(`${field}.codec`, 'must be CODEC_PCMU, CODEC_PCMA, CODEC_L16, CODEC_G722 or CODEC_OPUS');
    // 0 = the codec's own rate (8000 for L16, as before; 48000 for Opus).
    const clockRate = leg.clock_rate !== 0 ? leg.clock_rate : name === 'L16' ? 8000 : undefined;
    const codec = validateCodec({ name, clockRate, payloadType: leg.payload_type === 0 ? undefined : leg.payload_type });
    if (typeof codec === 'string') throw invalidArgument(`${field}.${codec.startsWith('payload') ? 'payload_type' : 'clock_rate'}`, codec);
    const eventPt = leg.telephone_event_payload_type;
    if (eventPt !== 0 && (eventPt < DYNAMIC_PT_MIN || eventPt > DYNAMIC_PT_MAX)) {
      throw invalidArgument(`${field}.telephone_event_payload_type`, `must be a dynamic payload type ${DYNAMIC_PT_MIN}-${DYNAMIC_PT_MAX}, got ${eventPt}`);
    }
    if (eventPt !== 0 && eventPt === codec.payloadType) {
      throw invalidArgument(`${field}.telephone_event_payload_type`, `${eventPt} is already the audio payload type`);
    }
    legs.push({
      role,
      codec: eventPt === 0 ? codec : { ...codec, telephoneEventPayloadType: eventPt },
      ...(expectedSource === undefined ? {} : { expectedSource }),
    });
  });
  return { callId, agentId: request.agent_id, queue: request.queue, language: request.language, legs, transcriptsOnly: request.transcripts_only };
}

/**
 * An IPv4 unicast address, and a port or 0 for any. Host names are refused:
 * the gateway would have to resolve them, and a PBX knows its media address.
 */
function parseExpectedSource(source: RtpSource__Output | null, field: string): ExpectedSource | undefined {
  if (source === null) return undefined;
  const { address, port } = source;
  if (address === '') {
    if (port !== 0) throw invalidArgument(`${field}.address`, 'is required with a port');
    return undefined;
  }
  if (!isIPv4(address)) {
    throw invalidArgument(`${field}.address`, `must be an IPv4 address such as 10.0.0.5 (RTP sockets are IPv4; no host names), got '${address.slice(0, 64)}'`);
  }
  const first = Number(address.split('.')[0]);
  if (address === '0.0.0.0' || address === '255.255.255.255' || (first >= 224 && first <= 239)) {
    throw invalidArgument(`${field}.address`, `${address} is not a unicast address a sender can have`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument(`${field}.port`, `must be 1-65535, or 0 for any port, got ${port}`);
  return port === 0 ? { address } : { address, port };
}
