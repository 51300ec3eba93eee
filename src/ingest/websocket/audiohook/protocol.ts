/**
 * Genesys AudioHook protocol v2: message shapes and validation of what the
 * client (Genesys Cloud) sends. Text frames are JSON messages, binary frames
 * are audio in the media format the server chose in `opened`.
 *
 * @see
 * - [AudioHook Protocol Specification](https://developer.genesys.cloud/devapps/audiohook/)
 * - [Session walkthrough](https://developer.genesys.cloud/devapps/audiohook/session-walkthrough)
 * - [Reference implementation](https://github.com/purecloudlabs/audiohook-reference-implementation) (app/audiohook/src/protocol)
 */

/** Client → server message types (everything else from a client is a protocol error). */
export const CLIENT_MESSAGE_TYPES = ['open', 'close', 'ping', 'paused', 'resumed', 'update', 'discarded', 'error'] as const;
export type ClientMessageType = (typeof CLIENT_MESSAGE_TYPES)[number];

/** The null UUID: the conversation id of Genesys' connection probe (no call behind it). */
export const NULL_UUID = '00000000-0000-0000-0000-000000000000';

const UUID = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000)$/;
/** ISO 8601 duration in seconds only, as AudioHook uses it: `PT1.5S`. */
const DURATION = /^PT(\d{1,9}(?:\.\d{1,9})?|\.\d{1,9})S$/;
const LANGUAGE_CODE = /^[a-zA-Z]{2,3}-[a-zA-Z]{2,3}$/;

export type MediaChannel = 'external' | 'internal';
export type MediaFormat = 'PCMU' | 'L16';

/** One offered (or chosen) media format. AudioHook audio is always 8000 Hz. */
export interface MediaParameter {
  readonly type: 'audio';
  readonly format: MediaFormat;
  readonly channels: readonly MediaChannel[];
  readonly rate: 8000;
}

export interface ClientMessage {
  readonly version: '2';
  readonly id: string;
  readonly type: ClientMessageType;
  readonly seq: number;
  readonly serverseq: number;
  /** Position in the audio stream (ms), from the `position` duration. */
  readonly positionMs: number;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface OpenParameters {
  readonly organizationId: string;
  readonly conversationId: string;
  readonly participant: Readonly<Record<string, unknown>>;
  readonly media: readonly MediaParameter[];
  readonly language: string | undefined;
  readonly customConfig: Readonly<Record<string, unknown>> | undefined;
}

/** Why a message was refused; `reason` labels the protocol-error counter. */
export class AudioHookProtocolError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** `PT1.5S` → 1500 (ms); undefined when not a duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 32) return undefined;
  const match = DURATION.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * 1000;
}

/** 1500 → `PT1.5S`. */
export function formatDuration(ms: number): string {
  return `PT${Number((Math.max(0, ms) / 1000).toFixed(3))}S`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses a text frame into a client message with the common fields checked
 * (version, id, type, seq, serverseq, position, parameters). Parameters of
 * each type are checked by the session with {@link parseOpen} etc.
 * @throws AudioHookProtocolError
 */
export function parseClientMessage(text: string): ClientMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AudioHookProtocolError('malformed-json', 'text message is not valid JSON');
  }
  if (!isObject(parsed)) throw new AudioHookProtocolError('malformed-message', 'message is not a JSON object');
  if (parsed['version'] !== '2') throw new AudioHookProtocolError('unsupported-version', 'version must be "2"');
  const { id, type, seq, serverseq, parameters } = parsed;
  const positionMs = parseDuration(parsed['position']);
  if (!isUuid(id)) throw new AudioHookProtocolError('malformed-message', 'id must be a UUID');
  if (typeof type !== 'string') throw new AudioHookProtocolError('malformed-message', 'type must be a string');
  if (!isSeq(seq) || !isSeq(serverseq)) throw new AudioHookProtocolError('malformed-message', 'seq and serverseq must be non-negative integers');
  if (positionMs === undefined) throw new AudioHookProtocolError('malformed-message', 'position must be an ISO 8601 duration such as PT1.5S');
  if (!isObject(parameters)) throw new AudioHookProtocolError('malformed-message', 'parameters must be an object');
  if (!(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) throw new AudioHookProtocolError('unknown-type', `'${type.slice(0, 32)}' is not a client message type`);
  return { version: '2', id, type: type as ClientMessageType, seq, serverseq, positionMs, parameters };
}

function parseMedia(value: unknown): MediaParameter | undefined {
  if (!isObject(value)) return undefined;
  const { type, format, rate, channels } = value;
  if (type !== 'audio' || (format !== 'PCMU' && format !== 'L16') || rate !== 8000) return undefined;
  if (!Array.isArray(channels) || channels.length < 1 || channels.length > 2) return undefined;
  if (!channels.every((c) => c === 'external' || c === 'internal') || new Set(channels).size !== channels.length) return undefined;
  return { type, format, rate, channels: channels as MediaChannel[] };
}

/** Offers the open message may carry; more is refused (bounded work per message). */
export const MAX_MEDIA_OFFERS = 16;

/**
 * `open` parameters. Offers the gateway cannot decode are skipped (not an
 * error: the server picks among the offers); malformed ones are.
 * @throws AudioHookProtocolError
 */
export function parseOpen(parameters: Readonly<Record<string, unknown>>): OpenParameters {
  const { organizationId, conversationId, participant, media, language, customConfig } = parameters;
  if (!isUuid(organizationId) || !isUuid(conversationId)) throw new AudioHookProtocolError('bad-parameters', 'open: organizationId and conversationId must be UUIDs');
  if (!isObject(participant)) throw new AudioHookProtocolError('bad-parameters', 'open: participant must be an object');
  if (!Array.isArray(media) || media.length > MAX_MEDIA_OFFERS) throw new AudioHookProtocolError('bad-parameters', `open: media must be an array of at most ${MAX_MEDIA_OFFERS} offers`);
  if (language !== undefined && (typeof language !== 'string' || !LANGUAGE_CODE.test(language))) throw new AudioHookProtocolError('bad-parameters', 'open: language must be a code such as en-US');
  if (customConfig !== undefined && !isObject(customConfig)) throw new AudioHookProtocolError('bad-parameters', 'open: customConfig must be an object');
  const offers: MediaParameter[] = [];
  for (const offer of media) {
    const parsed = parseMedia(offer);
    if (parsed !== undefined) offers.push(parsed);
  }
  return { organizationId, conversationId, participant, media: offers, language, customConfig };
}

/**
 * The server's choice among the offers: both channels (customer and agent)
 * first, then the customer alone, then the agent alone; PCMU before L16 at
 * equal channels (half the bytes). Undefined: nothing usable was offered.
 */
export function chooseMedia(offers: readonly MediaParameter[]): MediaParameter | undefined {
  const score = (m: MediaParameter): number => (m.channels.length === 2 ? 0 : m.channels[0] === 'external' ? 10 : 20) + (m.format === 'PCMU' ? 0 : 1);
  return [...offers].sort((a, b) => score(a) - score(b))[0];
}

/** `{start, discarded}` of `discarded` and `resumed`, in ms. @throws AudioHookProtocolError */
export function parseDiscarded(type: 'discarded' | 'resumed', parameters: Readonly<Record<string, unknown>>): { startMs: number; discardedMs: number } {
  const startMs = parseDuration(parameters['start']);
  const discardedMs = parseDuration(parameters['discarded']);
  if (startMs === undefined || discardedMs === undefined) throw new AudioHookProtocolError('bad-parameters', `${type}: start and discarded must be durations`);
  return { startMs, discardedMs };
}

/** `update` parameters: the new language, if any. @throws AudioHookProtocolError */
export function parseUpdate(parameters: Readonly<Record<string, unknown>>): { language: string | undefined } {
  const language = parameters['language'];
  if (language !== undefined && (typeof language !== 'string' || !LANGUAGE_CODE.test(language))) throw new AudioHookProtocolError('bad-parameters', 'update: language must be a code such as en-US');
  return { language };
}

/** `close` parameters: `reason` is one of end, error, disconnect, reconnect. @throws AudioHookProtocolError */
export function parseClose(parameters: Readonly<Record<string, unknown>>): { reason: string } {
  const reason = parameters['reason'];
  if (reason !== 'end' && reason !== 'error' && reason !== 'disconnect' && reason !== 'reconnect') throw new AudioHookProtocolError('bad-parameters', 'close: reason must be end, error, disconnect or reconnect');
  return { reason };
}
