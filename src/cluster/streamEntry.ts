import type { CallOwner } from '../auth/Principal.js';
import { isEventType, type GatewayEvent } from '../events.js';

/**
 * One event in the cluster's Redis stream. Fields: `i` who published it
 * (`<instance id>/<run>`: one run of one gateway), `n` its publication count
 * (so a gateway knows its own events when it reads them back, and an event
 * written twice by a retried batch is read once), `o` the owner of the call (agent
 * and queue, JSON; empty when unknown) that decides who may see it, `e` the
 * event as JSON without `eventId`: the stream id is the eventId.
 */
export interface StreamEntry {
  readonly instance: string;
  readonly seq: number;
  readonly owner: CallOwner | undefined;
  readonly event: GatewayEvent;
}

/** The XADD field/value pairs of an event (its `eventId` is left out: Redis assigns it). */
export function entryFields(instance: string, seq: number, event: GatewayEvent, owner: CallOwner | undefined): string[] {
  // The stream id is the eventId: the entry does not carry one.
  const body: Record<string, unknown> = { ...event };
  delete body['eventId'];
  return ['i', instance, 'n', String(seq), 'o', owner === undefined ? '' : JSON.stringify({ agentId: owner.agentId, queue: owner.queue }), 'e', JSON.stringify(body)];
}

/** A stream entry read back (its id is the event's `eventId`), or why it cannot be read. */
export function parseEntry(id: string, fields: readonly string[]): StreamEntry | string {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] ?? '', fields[i + 1] ?? '');
  const instance = values.get('i');
  const seq = Number(values.get('n'));
  const ownerText = values.get('o');
  const eventText = values.get('e');
  if (instance === undefined || !Number.isSafeInteger(seq) || ownerText === undefined || eventText === undefined) return 'missing fields (i, n, o, e)';
  let owner: CallOwner | undefined;
  let body: unknown;
  try {
    const parsedOwner = ownerText === '' ? undefined : (JSON.parse(ownerText) as unknown);
    if (parsedOwner !== undefined) {
      if (!isRecord(parsedOwner) || typeof parsedOwner['agentId'] !== 'string' || typeof parsedOwner['queue'] !== 'string') return 'owner is not {agentId, queue}';
      owner = { agentId: parsedOwner['agentId'], queue: parsedOwner['queue'] };
    }
    body = JSON.parse(eventText) as unknown;
  } catch {
    return 'not JSON';
  }
  if (!isRecord(body) || typeof body['type'] !== 'string' || !isEventType(body['type']) || typeof body['callId'] !== 'string' || typeof body['ts'] !== 'number') {
    return 'not an event (type, callId, ts)';
  }
  return { instance, seq, owner, event: { ...body, eventId: id } as unknown as GatewayEvent };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
