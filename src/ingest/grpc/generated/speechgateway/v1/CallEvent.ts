// Original file: proto/speechgateway/v1/gateway.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One /v1/events event (docs/events.md): the envelope typed, the body as JSON.
 */
export interface CallEvent {
  /**
   * "call.started", "transcript", "intent", "dtmf", "call.ended", "call.summary", ...
   */
  'type'?: (string);
  'call_id'?: (string);
  /**
   * Deprecated: the event's number within the gateway's run, which restarts at
   * 1 when the gateway restarts, so it is no cursor; use event_cursor.
   * @deprecated
   */
  'event_id'?: (number | string | Long);
  /**
   * Milliseconds since the Unix epoch.
   */
  'ts'?: (number | string | Long);
  /**
   * "customer" or "agent" for leg events (transcript, intent, dtmf, sentiment ...); empty otherwise.
   */
  'leg'?: (string);
  /**
   * Intent id for type "intent"; empty otherwise.
   */
  'intent'?: (string);
  /**
   * Transcript text for "transcript", matched words for "intent"; empty otherwise.
   */
  'text'?: (string);
  /**
   * Whether a transcript is final.
   */
  'final'?: (boolean);
  /**
   * The whole event as on /v1/events (JSON object).
   */
  'json'?: (string);
  /**
   * The event's eventId on /v1/events, "<epoch>-<seq>": the gateway-wide
   * cursor, naming the gateway's run (resume /v1/events with since=).
   */
  'event_cursor'?: (string);
}

/**
 * One /v1/events event (docs/events.md): the envelope typed, the body as JSON.
 */
export interface CallEvent__Output {
  /**
   * "call.started", "transcript", "intent", "dtmf", "call.ended", "call.summary", ...
   */
  'type': (string);
  'call_id': (string);
  /**
   * Deprecated: the event's number within the gateway's run, which restarts at
   * 1 when the gateway restarts, so it is no cursor; use event_cursor.
   * @deprecated
   */
  'event_id': (number);
  /**
   * Milliseconds since the Unix epoch.
   */
  'ts': (number);
  /**
   * "customer" or "agent" for leg events (transcript, intent, dtmf, sentiment ...); empty otherwise.
   */
  'leg': (string);
  /**
   * Intent id for type "intent"; empty otherwise.
   */
  'intent': (string);
  /**
   * Transcript text for "transcript", matched words for "intent"; empty otherwise.
   */
  'text': (string);
  /**
   * Whether a transcript is final.
   */
  'final': (boolean);
  /**
   * The whole event as on /v1/events (JSON object).
   */
  'json': (string);
  /**
   * The event's eventId on /v1/events, "<epoch>-<seq>": the gateway-wide
   * cursor, naming the gateway's run (resume /v1/events with since=).
   */
  'event_cursor': (string);
}
