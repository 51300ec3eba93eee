// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';
import type { Codec as _speechgateway_v1_Codec, Codec__Output as _speechgateway_v1_Codec__Output } from '../../speechgateway/v1/Codec.js';
import type { Long } from '@grpc/proto-loader';

export interface LegInfo {
  'role'?: (_speechgateway_v1_LegRole);
  'codec'?: (_speechgateway_v1_Codec);
  'clock_rate'?: (number);
  'payload_type'?: (number);
  'host'?: (string);
  'rtp_port'?: (number);
  /**
   * "ip:port" of the latched RTP source, empty until one passed probation
   * (docs/integrations/rtp.md#source-latching); the new one after a takeover.
   */
  'remote'?: (string);
  'packets_received'?: (number | string | Long);
  'packets_dropped'?: (number | string | Long);
  'packets_lost'?: (number | string | Long);
}

export interface LegInfo__Output {
  'role': (_speechgateway_v1_LegRole__Output);
  'codec': (_speechgateway_v1_Codec__Output);
  'clock_rate': (number);
  'payload_type': (number);
  'host': (string);
  'rtp_port': (number);
  /**
   * "ip:port" of the latched RTP source, empty until one passed probation
   * (docs/integrations/rtp.md#source-latching); the new one after a takeover.
   */
  'remote': (string);
  'packets_received': (number);
  'packets_dropped': (number);
  'packets_lost': (number);
}
