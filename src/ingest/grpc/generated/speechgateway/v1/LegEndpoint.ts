// Original file: proto/speechgateway/v1/gateway.proto

import type { LegRole as _speechgateway_v1_LegRole, LegRole__Output as _speechgateway_v1_LegRole__Output } from '../../speechgateway/v1/LegRole.js';

export interface LegEndpoint {
  'role'?: (_speechgateway_v1_LegRole);
  'host'?: (string);
  'rtp_port'?: (number);
  'rtcp_port'?: (number);
}

export interface LegEndpoint__Output {
  'role': (_speechgateway_v1_LegRole__Output);
  'host': (string);
  'rtp_port': (number);
  'rtcp_port': (number);
}
