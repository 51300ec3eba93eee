// Original file: proto/speechgateway/v1/gateway.proto

import type { LegInfo as _speechgateway_v1_LegInfo, LegInfo__Output as _speechgateway_v1_LegInfo__Output } from '../../speechgateway/v1/LegInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface CallInfo {
  'call_id'?: (string);
  'agent_id'?: (string);
  'queue'?: (string);
  'language'?: (string);
  /**
   * "active" or "ended".
   */
  'state'?: (string);
  /**
   * Milliseconds since the Unix epoch.
   */
  'started_at_ms'?: (number | string | Long);
  'duration_ms'?: (number | string | Long);
  'legs'?: (_speechgateway_v1_LegInfo)[];
  /**
   * Set once ended: "ended-by-request", "rtp-timeout", "rtcp-bye", "shutdown".
   */
  'end_reason'?: (string);
}

export interface CallInfo__Output {
  'call_id': (string);
  'agent_id': (string);
  'queue': (string);
  'language': (string);
  /**
   * "active" or "ended".
   */
  'state': (string);
  /**
   * Milliseconds since the Unix epoch.
   */
  'started_at_ms': (number);
  'duration_ms': (number);
  'legs': (_speechgateway_v1_LegInfo__Output)[];
  /**
   * Set once ended: "ended-by-request", "rtp-timeout", "rtcp-bye", "shutdown".
   */
  'end_reason': (string);
}
