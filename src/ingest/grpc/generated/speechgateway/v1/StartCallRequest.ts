// Original file: proto/speechgateway/v1/gateway.proto

import type { LegSpec as _speechgateway_v1_LegSpec, LegSpec__Output as _speechgateway_v1_LegSpec__Output } from '../../speechgateway/v1/LegSpec.js';

export interface StartCallRequest {
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
   * One or two legs, at most one per role.
   */
  'legs'?: (_speechgateway_v1_LegSpec)[];
  /**
   * No audio: no RTP ports, no ASR; transcripts arrive by PushTranscript (or
   * /v1/transcripts). Leg codecs are ignored.
   */
  'transcripts_only'?: (boolean);
}

export interface StartCallRequest__Output {
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
   * One or two legs, at most one per role.
   */
  'legs': (_speechgateway_v1_LegSpec__Output)[];
  /**
   * No audio: no RTP ports, no ASR; transcripts arrive by PushTranscript (or
   * /v1/transcripts). Leg codecs are ignored.
   */
  'transcripts_only': (boolean);
}
