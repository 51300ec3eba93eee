// Original file: proto/speechgateway/v1/gateway.proto

import type { LegEndpoint as _speechgateway_v1_LegEndpoint, LegEndpoint__Output as _speechgateway_v1_LegEndpoint__Output } from '../../speechgateway/v1/LegEndpoint.js';

export interface StartCallResponse {
  'call_id'?: (string);
  'legs'?: (_speechgateway_v1_LegEndpoint)[];
}

export interface StartCallResponse__Output {
  'call_id': (string);
  'legs': (_speechgateway_v1_LegEndpoint__Output)[];
}
