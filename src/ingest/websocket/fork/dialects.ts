/**
 * Audio forks over WebSocket: what each platform sends first, mapped onto a
 * call. All four send one text frame of metadata, then binary frames of
 * 16-bit little-endian linear PCM, the channels interleaved.
 *
 * - `audio-fork`: FreeSWITCH mod_audio_fork (drachtio), `uuid_audio_fork <uuid>
 *   start <url> <mono|mixed|stereo> <8k|16k> <metadata>`; the metadata is
 *   whatever text the dialplan passes; stereo: caller in channel 0.
 * - `audio-stream`: FreeSWITCH mod_audio_stream, same command shape; the
 *   metadata is optional (audio may come first).
 * - `jambonz`: the `listen` verb: a JSON object of the call's attributes
 *   (callSid, from, to, direction, …) plus `sampleRate`, `mixType` and the
 *   verb's `metadata`; DTMF as `{"event":"dtmf","dtmf":"2"}` with `passDtmf`.
 * - `asterisk`: chan_websocket (ARI external media or `Dial(WebSocket/…)`):
 *   `MEDIA_START connection_id:… channel:… format:slin16 …` in plain text,
 *   or `{"event":"MEDIA_START",…}` with `control_message_format=json`.
 *
 * @see
 * - [mod_audio_fork](https://github.com/drachtio/drachtio-freeswitch-modules/tree/main/modules/mod_audio_fork)
 * - [mod_audio_stream](https://github.com/amigniter/mod_audio_stream)
 * - [jambonz listen](https://docs.jambonz.org/verbs/verbs/listen)
 * - [Asterisk WebSocket channel](https://docs.asterisk.org/Configuration/Channel-Drivers/WebSocket/)
 */
import type { LegRole } from '../../../events.js';

export const FORK_DIALECTS = ['audio-fork', 'audio-stream', 'jambonz', 'asterisk'] as const;
export type ForkDialect = (typeof FORK_DIALECTS)[number];

export function isForkDialect(value: string): value is ForkDialect {
  return (FORK_DIALECTS as readonly string[]).includes(value);
}

/** The WebSocket subprotocol each platform offers, for choosing the dialect when the path does not. */
export const DIALECT_OF_SUBPROTOCOL: Readonly<Record<string, ForkDialect>> = {
  'audio.drachtio.org': 'audio-fork',
  'audio.jambonz.org': 'jambonz',
  media: 'asterisk',
};

/** RFC 6455 §7.4 close codes of /v1/fork (the same use as /v1/twilio). */
export const ForkCloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Metadata that must be JSON and is not; audio frames that are not whole samples. */
  INVALID_PAYLOAD: 1007,
  /** Missing or malformed fields, unsupported media, too much while starting, the call refused. */
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  /** The recognisers are full or the gateway drains: try again later. */
  TRY_AGAIN_LATER: 1013,
} as const;

export class ForkProtocolError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the first frame (and the URL) say about the call. */
export interface ForkStart {
  readonly dialect: ForkDialect;
  /** Undefined: the session names the call. */
  readonly callId: string | undefined;
  readonly caller: string | undefined;
  readonly callee: string | undefined;
  readonly agentId: string;
  readonly queue: string;
  readonly language: string | undefined;
  readonly sampleRate: 8000 | 16000;
  /** The leg of each interleaved channel, in channel order. */
  readonly roles: readonly LegRole[];
}

/** What the URL's query may say, for platforms whose metadata cannot (Asterisk's `v()` dial option, a FreeSWITCH URL). */
export interface ForkQuery {
  readonly get: (name: string) => string | null;
}

export const MAX_METADATA_KEYS = 64;
const CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const policy = (reason: string, message: string): ForkProtocolError => new ForkProtocolError(ForkCloseCodes.POLICY_VIOLATION, reason, message);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string-ish metadata value (numbers too: a FreeSWITCH variable may expand to one), at most 256 characters. */
function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value === '') return undefined;
  return value.slice(0, 256);
}

function first(source: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = text(source[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

function parseJsonObject(frame: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    throw new ForkProtocolError(ForkCloseCodes.INVALID_PAYLOAD, 'malformed-json', `${what} is not valid JSON`);
  }
  if (!isObject(parsed)) throw new ForkProtocolError(ForkCloseCodes.INVALID_PAYLOAD, 'malformed-message', `${what} is not a JSON object`);
  if (Object.keys(parsed).length > MAX_METADATA_KEYS) throw policy('bad-field', `${what} has more than ${MAX_METADATA_KEYS} keys`);
  return parsed;
}

function sampleRate(value: unknown, name: string): 8000 | 16000 {
  const rate = value === '8k' ? 8000 : value === '16k' ? 16000 : Number(value);
  if (rate === 8000 || rate === 16000) return rate;
  throw policy('unsupported-media', `${name} must be 8000 or 16000 (8k or 16k)`);
}

/** mono: one channel, the caller's; stereo: caller then callee. Mixed audio has both speakers on one leg: refused, not misattributed. */
function channelCount(value: unknown, name: string): 1 | 2 {
  if (value === 'mono' || value === 1 || value === '1') return 1;
  if (value === 'stereo' || value === 2 || value === '2') return 2;
  if (value === 'mixed') throw policy('unsupported-media', `${name} mixed puts both parties on one channel; use stereo (or mono for the caller alone)`);
  throw policy('unsupported-media', `${name} must be mono or stereo`);
}

/**
 * Channel 0 is the caller (the A leg, what the platform received), channel 1
 * the callee. The caller is the customer, unless the call is `outbound` (the
 * contact centre dialled: the A leg is the agent's side). `leg` names the
 * role of a mono stream outright (one Asterisk connection per leg).
 */
function rolesOf(channels: 1 | 2, direction: string | undefined, leg: string | undefined): readonly LegRole[] {
  if (leg !== undefined && channels === 1) {
    if (leg !== 'customer' && leg !== 'agent') throw policy('bad-field', 'leg must be customer or agent');
    return [leg];
  }
  const order: readonly LegRole[] = direction?.toLowerCase() === 'outbound' ? ['agent', 'customer'] : ['customer', 'agent'];
  return order.slice(0, channels);
}

function checkedCallId(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!CALL_ID.test(value)) throw policy('bad-field', `${name} must be 1-128 characters of [A-Za-z0-9._:-]`);
  return value;
}

/** Keys the gateway reads from any metadata object (the custom part every platform lets the integrator fill). */
function custom(source: Record<string, unknown>): { callId?: string; agentId?: string; queue?: string; language?: string } {
  const callId = first(source, ['callId']);
  const agentId = first(source, ['agentId', 'agent']);
  const queue = first(source, ['queue']);
  const language = first(source, ['language']);
  return { ...(callId === undefined ? {} : { callId }), ...(agentId === undefined ? {} : { agentId }), ...(queue === undefined ? {} : { queue }), ...(language === undefined ? {} : { language }) };
}

function queryText(query: ForkQuery, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value.slice(0, 256);
}

interface Mapped {
  readonly platformCallId: string | undefined;
  readonly custom: ReturnType<typeof custom>;
  readonly caller: string | undefined;
  readonly callee: string | undefined;
  readonly sampleRate: 8000 | 16000;
  readonly channels: 1 | 2;
  readonly direction: string | undefined;
}

/**
 * Custom fields (metadata, then the URL query) win over the platform's own
 * call id; the format comes from the metadata where the platform states it,
 * else the query (FreeSWITCH's metadata does not carry it).
 */
function finish(dialect: ForkDialect, mapped: Mapped, query: ForkQuery): ForkStart {
  const callId =
    checkedCallId(mapped.custom.callId, 'metadata callId') ??
    checkedCallId(queryText(query, 'callId'), 'query callId') ??
    (mapped.platformCallId !== undefined && CALL_ID.test(mapped.platformCallId) ? mapped.platformCallId : undefined);
  const leg = queryText(query, 'leg');
  return {
    dialect,
    callId,
    caller: mapped.caller,
    callee: mapped.callee,
    agentId: (mapped.custom.agentId ?? queryText(query, 'agentId') ?? '').slice(0, 128),
    queue: (mapped.custom.queue ?? queryText(query, 'queue') ?? '').slice(0, 128),
    language: mapped.custom.language ?? queryText(query, 'language'),
    sampleRate: mapped.sampleRate,
    roles: rolesOf(mapped.channels, mapped.direction ?? queryText(query, 'direction'), leg),
  };
}

/**
 * FreeSWITCH (mod_audio_fork, mod_audio_stream): the metadata is the
 * dialplan's own text. A JSON object is read for call id (`callId`, or
 * `callid`/`uuid` as in mod_audio_fork's example), `from`/`caller`,
 * `to`/`callee`, `direction`, agent, queue, language, and `sampleRate` /
 * `mixType` if the dialplan repeats them; other text is kept opaque. The
 * format is otherwise given in the URL (`?mix=stereo&rate=16k`), since the
 * command's own arguments never reach the server. `undefined`: no metadata
 * (mod_audio_stream sends audio first).
 */
export function parseFreeSwitchStart(dialect: 'audio-fork' | 'audio-stream', frame: string | undefined, query: ForkQuery): ForkStart {
  let metadata: Record<string, unknown> = {};
  if (frame !== undefined && frame.trimStart().startsWith('{')) {
    try {
      metadata = parseJsonObject(frame, 'metadata');
    } catch (err) {
      // Arbitrary text is the module's contract (e.g. the single-quoted pseudo-JSON of some dialplans): kept opaque, unless it is JSON that breaks a limit.
      if (!(err instanceof ForkProtocolError) || err.reason !== 'malformed-json') throw err;
    }
  }
  const rate = metadata['sampleRate'] ?? query.get('rate') ?? 8000;
  const mix = metadata['mixType'] ?? query.get('mix') ?? 'mono';
  return finish(
    dialect,
    {
      platformCallId: first(metadata, ['callid', 'call_id', 'uuid', 'call_uuid']),
      custom: custom(metadata),
      caller: first(metadata, ['from', 'caller']),
      callee: first(metadata, ['to', 'callee']),
      sampleRate: sampleRate(rate, 'sample rate'),
      channels: channelCount(mix, 'mix type'),
      direction: first(metadata, ['direction']),
    },
    query,
  );
}

/**
 * jambonz `listen`: the call's webhook attributes (callSid, from, to,
 * direction, …), `sampleRate` and `mixType` at the top level; the verb's
 * `metadata` merged in (read at the top level, or under `metadata` too).
 * The call id is `callSid` (jambonz's own `callId` is the SIP Call-ID).
 */
export function parseJambonzStart(frame: string, query: ForkQuery): ForkStart {
  const message = parseJsonObject(frame, 'the listen metadata');
  const nested = isObject(message['metadata']) ? message['metadata'] : {};
  if (message['sampleRate'] === undefined) throw policy('bad-field', 'sampleRate is required (jambonz sends it in the first frame)');
  return finish(
    'jambonz',
    {
      platformCallId: first(message, ['callSid']),
      // Top-level callId is jambonz's SIP Call-ID (with @host): the call is named by callSid, or metadata.callId.
      custom: { ...custom(message), callId: undefined, ...custom(nested) },
      caller: first(message, ['from']),
      callee: first(message, ['to']),
      sampleRate: sampleRate(message['sampleRate'], 'sampleRate'),
      channels: channelCount(message['mixType'] ?? 'mono', 'mixType'),
      direction: first(message, ['direction']),
    },
    query,
  );
}

/** The `format` of a chan_websocket channel: only signed linear is L16. */
function asteriskRate(format: string | undefined, frameSize: string | undefined, ptime: string | undefined, query: ForkQuery): 8000 | 16000 {
  if (format !== undefined) {
    if (format === 'slin') return 8000;
    if (format === 'slin16') return 16000;
    throw policy('unsupported-media', `format ${format.slice(0, 16)} is not L16: dial with c(slin16) or c(slin)`);
  }
  // Releases before format was sent: optimal_frame_size is ptime's worth of bytes.
  const bytes = Number(frameSize);
  const ms = Number(ptime ?? 20);
  if (Number.isFinite(bytes) && bytes > 0 && ms > 0) {
    const rate = Math.round((bytes / 2 / ms) * 1000);
    if (rate === 8000 || rate === 16000) return rate;
  }
  return sampleRate(query.get('rate') ?? 8000, 'rate');
}

/**
 * Asterisk chan_websocket `MEDIA_START`: plain text
 * (`MEDIA_START connection_id:x channel:y format:slin16 optimal_frame_size:640 ptime:20`)
 * or JSON (`{"event":"MEDIA_START","channel_id":…,"channel_variables":{…}}`).
 * One channel per connection (what Asterisk bridges to it): the customer,
 * or the leg `?leg=` names. Call id: `?callId=` (`v(callId=${UNIQUEID})`),
 * else the channel id, else the connection id.
 */
export function parseAsteriskStart(frame: string, query: ForkQuery): ForkStart {
  let fields: Record<string, unknown>;
  let variables: Record<string, unknown> = {};
  if (frame.trimStart().startsWith('{')) {
    fields = parseJsonObject(frame, 'MEDIA_START');
    if (fields['event'] !== 'MEDIA_START') throw policy('wrong-order', 'the first message must be MEDIA_START');
    if (isObject(fields['channel_variables'])) variables = fields['channel_variables'];
  } else {
    const [command, ...pairs] = frame.trim().split(/\s+/);
    if (command !== 'MEDIA_START') throw policy('wrong-order', 'the first message must be MEDIA_START');
    if (pairs.length > MAX_METADATA_KEYS) throw policy('bad-field', `MEDIA_START has more than ${MAX_METADATA_KEYS} fields`);
    fields = {};
    for (const pair of pairs) {
      const colon = pair.indexOf(':');
      if (colon <= 0) throw policy('bad-field', 'MEDIA_START fields are name:value');
      fields[pair.slice(0, colon)] = pair.slice(colon + 1);
    }
  }
  return finish(
    'asterisk',
    {
      platformCallId: first(fields, ['channel_id', 'connection_id']),
      custom: custom(variables),
      caller: undefined,
      callee: undefined,
      sampleRate: asteriskRate(text(fields['format']), text(fields['optimal_frame_size']), text(fields['ptime']), query),
      channels: 1,
      direction: undefined,
    },
    query,
  );
}

/** Which dialect a first text frame is, when neither path nor subprotocol said. */
export function sniffDialect(frame: string): ForkDialect {
  const trimmed = frame.trimStart();
  if (trimmed.startsWith('MEDIA_START') || /^\{\s*"event"\s*:\s*"MEDIA_START"/.test(trimmed)) return 'asterisk';
  if (trimmed.startsWith('{') && /"callSid"\s*:/.test(trimmed) && /"mixType"\s*:/.test(trimmed)) return 'jambonz';
  return 'audio-fork';
}

/** The first frame as a call, for `dialect`. `frame` undefined: audio came first (mod_audio_stream without metadata). */
export function parseStart(dialect: ForkDialect, frame: string | undefined, query: ForkQuery): ForkStart {
  if (dialect === 'audio-fork' || dialect === 'audio-stream') return parseFreeSwitchStart(dialect, frame, query);
  if (frame === undefined) throw policy('wrong-order', `${dialect} sends its metadata before audio`);
  return dialect === 'jambonz' ? parseJambonzStart(frame, query) : parseAsteriskStart(frame, query);
}

/** A jambonz `passDtmf` frame's digit, or undefined for any other text. */
export function jambonzDtmf(frame: string): string | undefined {
  if (!frame.includes('"dtmf"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || parsed['event'] !== 'dtmf') return undefined;
  const digit = parsed['dtmf'];
  return typeof digit === 'string' && /^[0-9*#A-D]$/.test(digit) ? digit : undefined;
}
