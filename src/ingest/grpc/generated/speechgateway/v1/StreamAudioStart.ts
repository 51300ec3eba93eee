// Original file: proto/speechgateway/v1/gateway.proto

import type { LegSpec as _speechgateway_v1_LegSpec, LegSpec__Output as _speechgateway_v1_LegSpec__Output } from '../../speechgateway/v1/LegSpec.js';

/**
 * The call, as in StartCall (payload types are not used: chunks are not RTP).
 */
export interface StreamAudioStart {
  /**
   * Caller-chosen id (1-128 chars of [A-Za-z0-9._:-]); generated when empty.
   */
  'call_id'?: (string);
  'agent_id'?: (string);
  'queue'?: (string);
  /**
   * BCP 47: "en-US" or "nl-NL".
   */
  'language'?: (string);
  /**
   * One or two legs, at most one per role. L16 is big-endian (network order), as on RTP.
   */
  'legs'?: (_speechgateway_v1_LegSpec)[];
}

/**
 * The call, as in StartCall (payload types are not used: chunks are not RTP).
 */
export interface StreamAudioStart__Output {
  /**
   * Caller-chosen id (1-128 chars of [A-Za-z0-9._:-]); generated when empty.
   */
  'call_id': (string);
  'agent_id': (string);
  'queue': (string);
  /**
   * BCP 47: "en-US" or "nl-NL".
   */
  'language': (string);
  /**
   * One or two legs, at most one per role. L16 is big-endian (network order), as on RTP.
   */
  'legs': (_speechgateway_v1_LegSpec__Output)[];
}
