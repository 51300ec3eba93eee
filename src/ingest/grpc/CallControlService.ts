import * as grpc from '@grpc/grpc-js';
import type { CallManager } from '../../calls/CallManager.js';
import type { CallSnapshot } from '../../calls/types.js';
import { GatewayError, invalidArgument } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { CallInfo } from './generated/speechgateway/v1/CallInfo.js';
import type { CallControlHandlers } from './generated/speechgateway/v1/CallControl.js';
import { parseStartCallRequest } from './startCallRequest.js';
import { parseTranscriptPush } from '../transcripts/transcriptPush.js';

const GRPC_FIELDS: Readonly<Record<string, string>> = { callId: 'call_id', utteranceId: 'utterance_id', startMs: 'start_ms', endMs: 'end_ms' };
const ROLE_FROM_ENUM: Readonly<Record<string, string>> = { LEG_ROLE_CUSTOMER: 'customer', LEG_ROLE_AGENT: 'agent' };

const ROLE_ENUM = { customer: 'LEG_ROLE_CUSTOMER', agent: 'LEG_ROLE_AGENT' } as const;
const CODEC_ENUM = { PCMU: 'CODEC_PCMU', PCMA: 'CODEC_PCMA', L16: 'CODEC_L16' } as const;

export function toCallInfo(call: CallSnapshot): CallInfo {
  return {
    call_id: call.callId,
    agent_id: call.agentId,
    queue: call.queue,
    language: call.language,
    state: call.state,
    started_at_ms: call.startedAt,
    duration_ms: call.durationMs,
    end_reason: call.endReason ?? '',
    legs: call.legs.map((leg) => ({
      role: ROLE_ENUM[leg.role],
      codec: CODEC_ENUM[leg.codec.name],
      clock_rate: leg.codec.clockRate,
      payload_type: leg.codec.payloadType,
      host: leg.host,
      rtp_port: leg.rtpPort,
      remote: leg.remote ?? '',
      packets_received: leg.packetsReceived,
      packets_dropped: leg.packetsDropped,
      packets_lost: leg.packetsLost,
    })),
  };
}

/**
 * The speechgateway.v1.CallControl service. Every failure reaches the client
 * as a gRPC status with a message; nothing a client sends can throw out of a
 * handler.
 */
export function createCallControlHandlers(calls: CallManager, metrics: GatewayMetrics, logger: Logger): CallControlHandlers {
  type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;

  const respond = <T>(method: string, callback: Callback<T>, work: () => Promise<T> | T): void => {
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          metrics.grpcRequests.inc({ method, code: 'OK' });
          callback(null, value);
        },
        (err: unknown) => {
          const code = err instanceof GatewayError ? err.grpcStatus : grpc.status.INTERNAL;
          const message = err instanceof GatewayError ? err.message : 'internal error';
          if (!(err instanceof GatewayError)) logger.error({ err, method }, 'control-plane request failed');
          else logger.info({ method, code: err.code, detail: err.message }, 'control-plane request refused');
          metrics.grpcRequests.inc({ method, code: grpc.status[code] ?? String(code) });
          callback({ code, details: message, message, name: 'GatewayError', metadata: new grpc.Metadata() });
        },
      );
  };

  const requireCallId = (callId: string): string => {
    if (callId === '') throw invalidArgument('call_id', 'is required');
    return callId;
  };

  return {
    StartCall: (call, callback) =>
      respond('StartCall', callback, async () => {
        const started = await calls.start(parseStartCallRequest(call.request));
        return {
          call_id: started.callId,
          legs: started.legs.map((leg) => ({ role: ROLE_ENUM[leg.role], host: leg.host, rtp_port: leg.rtpPort, rtcp_port: leg.rtcpPort })),
        };
      }),
    EndCall: (call, callback) =>
      respond('EndCall', callback, async () => ({ call: toCallInfo(await calls.end(requireCallId(call.request.call_id), 'ended-by-request')) })),
    GetCall: (call, callback) => respond('GetCall', callback, () => toCallInfo(calls.get(requireCallId(call.request.call_id)))),
    ListCalls: (_call, callback) => respond('ListCalls', callback, () => ({ calls: calls.list().map(toCallInfo) })),
    PushTranscript: (call, callback) =>
      respond('PushTranscript', callback, () => {
        const r = call.request;
        try {
          const push = parseTranscriptPush(
            {
              callId: r.call_id,
              role: ROLE_FROM_ENUM[r.role] ?? r.role,
              text: r.text,
              final: r.final,
              utteranceId: r.utterance_id,
              startMs: r.start_ms,
              endMs: r.end_ms,
              words: r.words.map((w) => ({ word: w.word, startMs: w.start_ms, endMs: w.end_ms, confidence: w.confidence })),
            },
            (name) => GRPC_FIELDS[name] ?? name,
          );
          calls.pushTranscript(push.callId, push.role, push.result);
          metrics.transcriptsPushed.inc({ channel: 'grpc', outcome: 'accepted' });
        } catch (err) {
          metrics.transcriptsPushed.inc({ channel: 'grpc', outcome: 'refused' });
          throw err;
        }
        return {};
      }),
  };
}
