// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';
import type { Word as _speechgateway_v1_Word, Word__Output as _speechgateway_v1_Word__Output } from '../../speechgateway/v1/Word.js';

export interface PushTranscriptRequest {
  'call_id'?: (string);
  'role'?: (_speechgateway_v1_LegRole);
  /**
   * At most 4096 characters.
   */
  'text'?: (string);
  /**
   * A final replaces the partials of its utterance.
   */
  'final'?: (boolean);
  /**
   * Same id for the partials and the final of one utterance.
   */
  'utterance_id'?: (number);
  /**
   * Milliseconds from the call start (StartCall).
   */
  'start_ms'?: (number);
  'end_ms'?: (number);
  /**
   * Optional word timings, for intent times and confidences.
   */
  'words'?: (_speechgateway_v1_Word)[];
}

export interface PushTranscriptRequest__Output {
  'call_id': (string);
  'role': (_speechgateway_v1_LegRole__Output);
  /**
   * At most 4096 characters.
   */
  'text': (string);
  /**
   * A final replaces the partials of its utterance.
   */
  'final': (boolean);
  /**
   * Same id for the partials and the final of one utterance.
   */
  'utterance_id': (number);
  /**
   * Milliseconds from the call start (StartCall).
   */
  'start_ms': (number);
  'end_ms': (number);
  /**
   * Optional word timings, for intent times and confidences.
   */
  'words': (_speechgateway_v1_Word__Output)[];
}
