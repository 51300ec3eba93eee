// Original file: proto/speechgateway/v1/gateway.proto


export interface GetCallRequest {
  'call_id'?: (string);
}

export interface GetCallRequest__Output {
  'call_id': (string);
}
