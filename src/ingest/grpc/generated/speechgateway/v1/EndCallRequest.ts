// Original file: proto/speechgateway/v1/gateway.proto


export interface EndCallRequest {
  'call_id'?: (string);
}

export interface EndCallRequest__Output {
  'call_id': (string);
}
