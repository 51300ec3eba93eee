// Original file: proto/speechgateway/v1/gateway.proto


export interface PushTranscriptResponse {
}

export interface PushTranscriptResponse__Output {
}
