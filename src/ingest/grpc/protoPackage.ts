import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PACKAGE_ROOT } from '../../config.js';
import type { ProtoGrpcType } from './generated/gateway.js';

export const PROTO_ROOT = path.join(PACKAGE_ROOT, 'proto');

/**
 * Loads proto/speechgateway/v1/gateway.proto with the same options the types
 * in ./generated were produced with (`npm run proto:gen`), so runtime objects
 * and types agree: enums as strings, 64-bit ints as numbers, defaults filled.
 */
export function loadGatewayProto(): ProtoGrpcType {
  const definition = protoLoader.loadSync('speechgateway/v1/gateway.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}
