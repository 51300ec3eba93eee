// Original file: proto/speechgateway/v1/gateway.proto

import type { CallInfo as _speechgateway_v1_CallInfo, CallInfo__Output as _speechgateway_v1_CallInfo__Output } from '../../speechgateway/v1/CallInfo.js';

export interface ListCallsResponse {
  'calls'?: (_speechgateway_v1_CallInfo)[];
}

export interface ListCallsResponse__Output {
  'calls': (_speechgateway_v1_CallInfo__Output)[];
}
