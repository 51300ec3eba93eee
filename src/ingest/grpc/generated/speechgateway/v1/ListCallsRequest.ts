// Original file: proto/speechgateway/v1/gateway.proto


export interface ListCallsRequest {
}

export interface ListCallsRequest__Output {
}
