// Original file: proto/speechgateway/v1/gateway.proto


export interface StreamAudioStarted {
  'call_id'?: (string);
}

export interface StreamAudioStarted__Output {
  'call_id': (string);
}
