/**
 * The recording metadata an SRC sends (RFC 7865 XML, content type
 * application/rs-metadata+xml, RFC 7866 §8): the recorded session, its
 * participants with their AoRs, the streams (each with the SDP `a=label` of
 * its m-line) and who sends which stream. Parsed with fast-xml-parser;
 * namespace prefixes are dropped so that `<rs:participant>` and
 * `<participant>` read alike.
 *
 * Besides `participantstreamassoc` (RFC 7865 §6.6), `send` elements inside
 * `participant` (the pre-RFC draft format some SRCs still send) are read too.
 *
 * @see [RFC 7865 §6](https://datatracker.ietf.org/doc/html/rfc7865#section-6)
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface MetadataParticipant {
  readonly id: string;
  /** `sip:`/`tel:` AoR of the participant's first nameID. */
  readonly aor: string | undefined;
  readonly name: string | undefined;
  /** stream_ids the participant sends. */
  readonly sends: readonly string[];
}

export interface RecordingMetadata {
  /** The `session_id` of the first session (RFC 7865 §6.2: base64 of a UUID). */
  readonly sessionId: string | undefined;
  /** The recorded call's Session-ID (RFC 7989) from `sipSessionID`, if given. */
  readonly sipSessionId: string | undefined;
  readonly participants: readonly MetadataParticipant[];
  /** stream_id → SDP label. */
  readonly streamLabels: ReadonlyMap<string, string>;
}

/** Beyond these the rest is ignored: an SRC records two or three parties. */
const MAX_PARTICIPANTS = 32;
const MAX_STREAMS = 32;

const LISTS = new Set(['participant', 'stream', 'participantstreamassoc', 'send', 'nameID', 'session', 'name', 'aor']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name) => LISTS.has(name),
});

type Node = Readonly<Record<string, unknown>>;

function nodes(value: unknown): Node[] {
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is Node => typeof v === 'object' && v !== null);
}

/** Text of a leaf (a string, or an object with `#text` when it has attributes). */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && '#text' in value) {
    const inner = (value as Node)['#text'];
    return typeof inner === 'string' ? inner : undefined;
  }
  return undefined;
}

function attr(node: Node, name: string): string | undefined {
  const value = node[`@${name}`];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Parses an rs-metadata document.
 * @returns the metadata, or a one-line problem (not XML, not a `recording` document).
 */
export function parseRecordingMetadata(xml: string): RecordingMetadata | string {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return `rs-metadata is not well-formed XML (line ${valid.err.line}: ${valid.err.msg.slice(0, 80)})`;
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (err) {
    return `rs-metadata could not be parsed: ${err instanceof Error ? err.message.slice(0, 80) : 'unknown error'}`;
  }
  const recording = (document as Node)['recording'];
  if (typeof recording !== 'object' || recording === null) return 'rs-metadata has no <recording> root element';
  const root = recording as Node;
  const session = nodes(root['session'])[0];
  const sends = new Map<string, string[]>();
  const addSend = (participantId: string, streamId: string): void => {
    const list = sends.get(participantId) ?? [];
    if (!list.includes(streamId)) list.push(streamId);
    sends.set(participantId, list);
  };
  for (const assoc of nodes(root['participantstreamassoc']).slice(0, MAX_PARTICIPANTS)) {
    const participantId = attr(assoc, 'participant_id');
    if (participantId === undefined) continue;
    for (const send of Array.isArray(assoc['send']) ? (assoc['send'] as unknown[]) : []) {
      const streamId = text(send);
      if (streamId !== undefined) addSend(participantId, streamId);
    }
  }
  const participants: MetadataParticipant[] = [];
  for (const p of nodes(root['participant']).slice(0, MAX_PARTICIPANTS)) {
    const id = attr(p, 'participant_id') ?? attr(p, 'id');
    if (id === undefined) continue;
    for (const send of Array.isArray(p['send']) ? (p['send'] as unknown[]) : []) {
      const streamId = text(send);
      if (streamId !== undefined) addSend(id, streamId);
    }
    const nameId = nodes(p['nameID'])[0];
    const aor = (nameId === undefined ? undefined : attr(nameId, 'aor')) ?? (Array.isArray(p['aor']) ? text((p['aor'] as unknown[])[0]) : undefined);
    const nameNode = nameId === undefined ? undefined : (nameId['name'] as unknown[] | undefined)?.[0];
    const name = text(nameNode) ?? attr(p, 'name');
    participants.push({ id, aor: aor?.slice(0, 256), name: name?.slice(0, 128), sends: [] });
  }
  const streamLabels = new Map<string, string>();
  for (const s of nodes(root['stream']).slice(0, MAX_STREAMS)) {
    const id = attr(s, 'stream_id') ?? attr(s, 'streamid');
    const label = text(s['label']) ?? attr(s, 'label');
    if (id !== undefined && label !== undefined) streamLabels.set(id, label);
  }
  return {
    sessionId: (session === undefined ? undefined : (attr(session, 'session_id') ?? attr(session, 'session')))?.slice(0, 128),
    sipSessionId: (session === undefined ? undefined : text(session['sipSessionID']))?.slice(0, 128),
    participants: participants.map((p) => ({ ...p, sends: sends.get(p.id) ?? [] })),
    streamLabels,
  };
}

/** The participant sending the stream with SDP label `label`, if the metadata says. */
export function senderOfLabel(metadata: RecordingMetadata, label: string): MetadataParticipant | undefined {
  for (const [streamId, streamLabel] of metadata.streamLabels) {
    if (streamLabel !== label) continue;
    const sender = metadata.participants.find((p) => p.sends.includes(streamId));
    if (sender !== undefined) return sender;
  }
  return undefined;
}
