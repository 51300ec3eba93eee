// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';
import type { Codec as _speechgateway_v1_Codec, Codec__Output as _speechgateway_v1_Codec__Output } from '../../speechgateway/v1/Codec.js';
import type { RtpSource as _speechgateway_v1_RtpSource, RtpSource__Output as _speechgateway_v1_RtpSource__Output } from '../../speechgateway/v1/RtpSource.js';

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
  /**
   * Where this leg's RTP comes from (the PBX's or SBC's media address), when
   * known: datagrams from anywhere else are dropped (unexpected_source) and
   * can never take the leg. Unset: any source may latch after probation
   * (docs/integrations/rtp.md#source-latching). RTP legs only: ignored by
   * StreamAudio and transcripts_only calls (but still checked).
   */
  'expected_source'?: (_speechgateway_v1_RtpSource | null);
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
  /**
   * Where this leg's RTP comes from (the PBX's or SBC's media address), when
   * known: datagrams from anywhere else are dropped (unexpected_source) and
   * can never take the leg. Unset: any source may latch after probation
   * (docs/integrations/rtp.md#source-latching). RTP legs only: ignored by
   * StreamAudio and transcripts_only calls (but still checked).
   */
  'expected_source': (_speechgateway_v1_RtpSource__Output | null);
}
