/**
 * Redis stream replies (RESP2 shapes, as ioredis hands them over with its
 * default reply mapping) read from `unknown` into types, so a surprise in a
 * reply is an error with a message instead of a crash.
 */

/** `[id, [field, value, ...]]` as XRANGE, XREVRANGE and XREAD return each entry. */
export interface RawEntry {
  readonly id: string;
  readonly fields: readonly string[];
}

export function parseEntries(reply: unknown): RawEntry[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw new Error('stream reply is not a list');
  return reply.map((item: unknown) => {
    if (!Array.isArray(item) || typeof item[0] !== 'string') throw new Error('stream entry is not [id, fields]');
    const fields: unknown = item[1];
    // A deleted entry still referenced (XREAD of an XDEL'd id) comes with nil fields.
    if (fields === null) return { id: item[0], fields: [] };
    if (!Array.isArray(fields) || !fields.every((f): f is string => typeof f === 'string')) throw new Error('stream entry fields are not strings');
    return { id: item[0], fields };
  });
}

/** XREAD of one stream: its entries (none when the BLOCK timed out). */
export function parseXread(reply: unknown): RawEntry[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw new Error('XREAD reply is not a list');
  const stream: unknown = reply[0];
  if (stream === undefined) return [];
  if (!Array.isArray(stream)) throw new Error('XREAD stream is not [key, entries]');
  return parseEntries(stream[1]);
}

/** What a replay needs of XINFO STREAM. */
export interface StreamInfo {
  readonly length: number;
  readonly entriesAdded: number;
  readonly lastGeneratedId: string;
  /** Undefined when the stream is empty. */
  readonly firstEntryId: string | undefined;
}

export function parseStreamInfo(reply: unknown): StreamInfo {
  if (!Array.isArray(reply)) throw new Error('XINFO STREAM reply is not a list');
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) info.set(String(reply[i]), reply[i + 1]);
  const length = Number(info.get('length'));
  const entriesAdded = Number(info.get('entries-added') ?? length);
  const lastGeneratedId = info.get('last-generated-id');
  const first = info.get('first-entry');
  if (!Number.isFinite(length) || typeof lastGeneratedId !== 'string') throw new Error('XINFO STREAM lacks length or last-generated-id');
  const firstEntryId = Array.isArray(first) && typeof first[0] === 'string' ? first[0] : undefined;
  return { length, entriesAdded: Number.isFinite(entriesAdded) ? entriesAdded : length, lastGeneratedId, firstEntryId };
}
