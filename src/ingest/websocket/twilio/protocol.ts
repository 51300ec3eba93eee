/**
 * Twilio Media Streams: the JSON text messages Twilio sends to the
 * WebSocket of a `<Start><Stream>` / `<Connect><Stream>`: `connected`,
 * `start`, `media` (base64 μ-law 8 kHz mono per track), `dtmf`, `mark`,
 * `stop`. Every message but `connected` carries `sequenceNumber` (a decimal
 * string counting from 1) and `streamSid`.
 *
 * @see
 * - [Media Streams WebSocket messages](https://www.twilio.com/docs/voice/media-streams/websocket-messages)
 * - [TwiML `<Stream>`](https://www.twilio.com/docs/voice/twiml/stream)
 */

/** RFC 6455 §7.4 close codes the gateway uses on /v1/twilio. */
export const TwilioCloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Not JSON, a binary frame, or a payload that is not base64. */
  INVALID_PAYLOAD: 1007,
  /** Wrong message order, missing or malformed fields, wrong stream. */
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  /** The recognisers are full: Twilio may retry the stream later. */
  TRY_AGAIN_LATER: 1013,
} as const;

export type TwilioTrack = 'inbound' | 'outbound';

export interface StartMessage {
  readonly event: 'start';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly tracks: readonly TwilioTrack[];
  readonly customParameters: Readonly<Record<string, string>>;
}

export interface MediaMessage {
  readonly event: 'media';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  readonly track: TwilioTrack;
  /** Milliseconds since the stream started (per track). */
  readonly timestamp: number;
  readonly payload: Uint8Array;
}

export interface DtmfMessage {
  readonly event: 'dtmf';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  readonly track: TwilioTrack;
  readonly digit: string;
}

export interface OtherMessage {
  readonly event: 'connected' | 'mark' | 'stop';
  readonly sequenceNumber: number | undefined;
  readonly streamSid: string | undefined;
}

export interface UnknownMessage {
  readonly event: 'unknown';
  readonly sequenceNumber: number;
  readonly name: string;
}

export type TwilioMessage = StartMessage | MediaMessage | DtmfMessage | OtherMessage | UnknownMessage;

/** Why a message was refused: the close code, and `reason` for the counter. */
export class TwilioProtocolError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Custom parameters kept from `start` (Twilio allows a handful; more is refused). */
export const MAX_CUSTOM_PARAMETERS = 32;
const SID = /^[A-Za-z0-9_-]{1,64}$/;
const DECIMAL = /^\d{1,15}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DTMF_DIGIT = /^[0-9*#A-D]$/;

const policy = (reason: string, message: string) => new TwilioProtocolError(TwilioCloseCodes.POLICY_VIOLATION, reason, message);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sid(value: unknown, name: string): string {
  if (typeof value !== 'string' || !SID.test(value)) throw policy('bad-field', `${name} must be 1-64 characters of [A-Za-z0-9_-]`);
  return value;
}

function decimal(value: unknown, name: string): number {
  // Twilio sends numbers as strings; numbers are accepted too.
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text)) throw policy('bad-field', `${name} must be a non-negative decimal integer`);
  return Number(text);
}

/** `inbound` / `outbound`, also in the `inbound_track` form dtmf uses. */
function track(value: unknown, name: string): TwilioTrack {
  if (value === 'inbound' || value === 'inbound_track') return 'inbound';
  if (value === 'outbound' || value === 'outbound_track') return 'outbound';
  throw policy('bad-field', `${name} must be inbound or outbound`);
}

/**
 * Parses and validates one text message. Unknown events are returned as
 * `unknown` (Twilio may add events; the session counts and ignores them).
 * @throws TwilioProtocolError
 */
export function parseTwilioMessage(text: string): TwilioMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TwilioProtocolError(TwilioCloseCodes.INVALID_PAYLOAD, 'malformed-json', 'message is not valid JSON');
  }
  if (!isObject(parsed)) throw new TwilioProtocolError(TwilioCloseCodes.INVALID_PAYLOAD, 'malformed-message', 'message is not a JSON object');
  const event = parsed['event'];
  if (typeof event !== 'string') throw policy('malformed-message', 'event must be a string');
  if (event === 'connected') return { event, sequenceNumber: undefined, streamSid: undefined };
  const sequenceNumber = decimal(parsed['sequenceNumber'], 'sequenceNumber');
  switch (event) {
    case 'start': {
      const start = parsed['start'];
      if (!isObject(start)) throw policy('bad-field', 'start must be an object');
      const streamSid = sid(parsed['streamSid'] ?? start['streamSid'], 'streamSid');
      const tracks = start['tracks'];
      if (!Array.isArray(tracks) || tracks.length < 1 || tracks.length > 2) throw policy('bad-field', 'start.tracks must list inbound and/or outbound');
      const parsedTracks = tracks.map((t, i) => track(t, `start.tracks[${i}]`));
      if (new Set(parsedTracks).size !== parsedTracks.length) throw policy('bad-field', 'start.tracks lists a track twice');
      const format = start['mediaFormat'];
      if (!isObject(format) || format['encoding'] !== 'audio/x-mulaw' || Number(format['sampleRate']) !== 8000 || Number(format['channels'] ?? 1) !== 1) {
        throw policy('unsupported-media', 'start.mediaFormat must be audio/x-mulaw, 8000 Hz, 1 channel');
      }
      const custom = start['customParameters'] ?? {};
      if (!isObject(custom)) throw policy('bad-field', 'start.customParameters must be an object');
      const entries = Object.entries(custom);
      if (entries.length > MAX_CUSTOM_PARAMETERS) throw policy('bad-field', `start.customParameters has more than ${MAX_CUSTOM_PARAMETERS} entries`);
      const customParameters: Record<string, string> = {};
      for (const [key, value] of entries) {
        if (typeof value !== 'string' || key.length > 64 || value.length > 512) throw policy('bad-field', 'start.customParameters values must be strings (keys at most 64, values at most 512 characters)');
        customParameters[key] = value;
      }
      return {
        event,
        sequenceNumber,
        streamSid,
        callSid: sid(start['callSid'], 'start.callSid'),
        accountSid: start['accountSid'] === undefined ? '' : sid(start['accountSid'], 'start.accountSid'),
        tracks: parsedTracks,
        customParameters,
      };
    }
    case 'media': {
      const media = parsed['media'];
      if (!isObject(media)) throw policy('bad-field', 'media must be an object');
      const payload = media['payload'];
      if (typeof payload !== 'string' || payload.length === 0 || payload.length % 4 !== 0 || !BASE64.test(payload)) {
        throw new TwilioProtocolError(TwilioCloseCodes.INVALID_PAYLOAD, 'bad-payload', 'media.payload must be non-empty base64');
      }
      return {
        event,
        sequenceNumber,
        streamSid: sid(parsed['streamSid'], 'streamSid'),
        track: track(media['track'] ?? 'inbound', 'media.track'),
        timestamp: decimal(media['timestamp'], 'media.timestamp'),
        payload: Buffer.from(payload, 'base64'),
      };
    }
    case 'dtmf': {
      const dtmf = parsed['dtmf'];
      if (!isObject(dtmf)) throw policy('bad-field', 'dtmf must be an object');
      const digit = dtmf['digit'];
      if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) throw policy('bad-field', 'dtmf.digit must be one of 0-9 * # A-D');
      return { event, sequenceNumber, streamSid: sid(parsed['streamSid'], 'streamSid'), track: track(dtmf['track'] ?? 'inbound_track', 'dtmf.track'), digit };
    }
    case 'mark':
    case 'stop':
      return { event, sequenceNumber, streamSid: sid(parsed['streamSid'], 'streamSid') };
    default:
      return { event: 'unknown', sequenceNumber, name: event.slice(0, 32) };
  }
}
