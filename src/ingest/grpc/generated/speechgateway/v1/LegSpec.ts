// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';
import type { Codec as _speechgateway_v1_Codec, Codec__Output as _speechgateway_v1_Codec__Output } from '../../speechgateway/v1/Codec.js';

export interface LegSpec {
  'role'?: (_speechgateway_v1_LegRole);
  'codec'?: (_speechgateway_v1_Codec);
  /**
   * RTP clock rate; 0 means the codec's default (8000).
   */
  'clock_rate'?: (number);
  /**
   * Required for dynamic payload types (L16: 96..127); 0 means the static one.
   */
  'payload_type'?: (number);
  /**
   * RFC 4733 telephone-event payload type (96..127) for DTMF; 0 means 101.
   */
  'telephone_event_payload_type'?: (number);
}

export interface LegSpec__Output {
  'role': (_speechgateway_v1_LegRole__Output);
  'codec': (_speechgateway_v1_Codec__Output);
  /**
   * RTP clock rate; 0 means the codec's default (8000).
   */
  'clock_rate': (number);
  /**
   * Required for dynamic payload types (L16: 96..127); 0 means the static one.
   */
  'payload_type': (number);
  /**
   * RFC 4733 telephone-event payload type (96..127) for DTMF; 0 means 101.
   */
  'telephone_event_payload_type': (number);
}
