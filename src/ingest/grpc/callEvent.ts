import { parseCursor } from '../../push/EventCursor.js';
import type { GatewayEvent } from '../../events.js';
import type { CallEvent } from './generated/speechgateway/v1/CallEvent.js';

/**
 * A /v1/events event as a `CallEvent` message: the fields most clients branch
 * on are typed (type, leg, intent, text, final), the whole event travels as
 * JSON so nothing is lost and new event types need no proto change.
 */
export function toCallEvent(event: GatewayEvent): CallEvent {
  const leg = 'leg' in event ? event.leg : '';
  return {
    type: event.type,
    call_id: event.callId,
    // Kept for clients of the old field: the sequence part of the cursor.
    event_id: parseCursorSeq(event.eventId),
    event_cursor: event.eventId,
    ts: event.ts,
    leg,
    intent: event.type === 'intent' ? event.intent : '',
    text: event.type === 'transcript' || event.type === 'intent' ? event.text : '',
    final: event.type === 'transcript' ? event.final : false,
    json: JSON.stringify(event),
  };
}

function parseCursorSeq(eventId: string): number {
  const parsed = parseCursor(eventId);
  return parsed.kind === 'cursor' ? parsed.cursor.seq : 0;
}
