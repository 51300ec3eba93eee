import * as grpc from '@grpc/grpc-js';
import { AccessControl, bearerToken } from '../../auth/AccessControl.js';
import type { Principal } from '../../auth/Principal.js';
import { principalCredential } from '../../auth/credential.js';
import { canControlCalls, canSeeCallMetadata } from '../../auth/scope.js';
import { LocalCallDirectory, type CallDirectory } from '../../calls/CallDirectory.js';
import type { CallManager } from '../../calls/CallManager.js';
import type { CallSnapshot } from '../../calls/types.js';
import { GatewayError, invalidArgument } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { LogLimiter, peerAddress } from '../../LogLimiter.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { CallInfo } from './generated/speechgateway/v1/CallInfo.js';
import type { CallControlHandlers } from './generated/speechgateway/v1/CallControl.js';
import { parseStartCallRequest } from './startCallRequest.js';
import { parseTranscriptPush } from '../transcripts/transcriptPush.js';
import type { EventFeed } from '../../calls/EventBus.js';
import { createStreamAudioHandler } from './StreamAudioService.js';

const GRPC_FIELDS: Readonly<Record<string, string>> = { callId: 'call_id', utteranceId: 'utterance_id', startMs: 'start_ms', endMs: 'end_ms' };
const ROLE_FROM_ENUM: Readonly<Record<string, string>> = { LEG_ROLE_CUSTOMER: 'customer', LEG_ROLE_AGENT: 'agent' };

const ROLE_ENUM = { customer: 'LEG_ROLE_CUSTOMER', agent: 'LEG_ROLE_AGENT' } as const;
const CODEC_ENUM = { PCMU: 'CODEC_PCMU', PCMA: 'CODEC_PCMA', L16: 'CODEC_L16', G722: 'CODEC_G722', OPUS: 'CODEC_OPUS' } as const;

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
 *
 * With authentication on, every call needs metadata `authorization: Bearer
 * <jwt>` (UNAUTHENTICATED otherwise). StartCall, EndCall and PushTranscript
 * are the control plane: role `admin` or `pbx` (PERMISSION_DENIED otherwise).
 * GetCall and ListCalls are scoped like events (agent: own calls, supervisor:
 * its queues; `pbx` and `admin`: all); GetCall answers a call out of scope
 * with NOT_FOUND, as an unknown one.
 */
export function createCallControlHandlers(
  calls: CallManager,
  metrics: GatewayMetrics,
  logger: Logger,
  access = new AccessControl(undefined, metrics),
  /** The event hub StreamAudio sends a call's events from; without it StreamAudio is UNIMPLEMENTED. */
  hub?: EventFeed,
  /** Refusals are logged once per client address and error code a window, then summarised. */
  logLimiter = new LogLimiter({ metrics }),
  /** Where GetCall, ListCalls and EndCall find calls: this gateway's (default) or the cluster's. */
  directory: CallDirectory = new LocalCallDirectory(calls),
): CallControlHandlers {
  type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;

  const respond = <T>(method: string, call: { metadata: grpc.Metadata; getPeer(): string }, callback: Callback<T>, work: (principal: Principal) => Promise<T> | T): void => {
    const authorization = call.metadata.get('authorization')[0];
    Promise.resolve()
      .then(() => access.authenticate(bearerToken(typeof authorization === 'string' ? authorization : undefined), 'grpc'))
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
          else logLimiter.log(logger, 'info', `grpc-refused:${err.code}`, peerAddress(call.getPeer()), { method, code: err.code, detail: err.message }, 'control-plane request refused');
          metrics.grpcRequests.inc({ method, code: grpc.status[code] ?? String(code) });
          callback({ code, details: message, message, name: 'GatewayError', metadata: new grpc.Metadata() });
        },
      );
  };

  const requireCallId = (callId: string): string => {
    if (callId === '') throw invalidArgument('call_id', 'is required');
    return callId;
  };
  const requireControl = (principal: Principal, method: string): void => {
    if (!canControlCalls(principal)) throw access.forbidden('grpc', `${method} needs role admin or pbx, not ${principal.role}`);
  };

  return {
    StartCall: (call, callback) =>
      respond('StartCall', call, callback, async (principal) => {
        requireControl(principal, 'StartCall');
        const started = await calls.start(parseStartCallRequest(call.request), principalCredential(principal));
        return {
          call_id: started.callId,
          legs: started.legs.map((leg) => ({ role: ROLE_ENUM[leg.role], host: leg.host, rtp_port: leg.rtpPort, rtcp_port: leg.rtcpPort })),
        };
      }),
    EndCall: (call, callback) =>
      respond('EndCall', call, callback, async (principal) => {
        requireControl(principal, 'EndCall');
        return { call: toCallInfo(await directory.end(requireCallId(call.request.call_id), 'ended-by-request')) };
      }),
    GetCall: (call, callback) =>
      respond('GetCall', call, callback, async (principal) => toCallInfo(await directory.get(requireCallId(call.request.call_id), (snapshot) => canSeeCallMetadata(principal, snapshot)))),
    ListCalls: (call, callback) => respond('ListCalls', call, callback, async (principal) => ({ calls: (await directory.list()).filter((c) => canSeeCallMetadata(principal, c)).map(toCallInfo) })),
    PushTranscript: (call, callback) =>
      respond('PushTranscript', call, callback, (principal) => {
        requireControl(principal, 'PushTranscript');
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
    SetRecognitionPaused: (call, callback) =>
      respond('SetRecognitionPaused', call, callback, (principal) => {
        requireControl(principal, 'SetRecognitionPaused');
        const callId = requireCallId(call.request.call_id);
        const roleName = call.request.role;
        const role = roleName === 'LEG_ROLE_UNSPECIFIED' ? undefined : ROLE_FROM_ENUM[roleName];
        if (roleName !== 'LEG_ROLE_UNSPECIFIED' && role === undefined) throw invalidArgument('role', 'must be LEG_ROLE_CUSTOMER, LEG_ROLE_AGENT or unspecified (all legs)');
        const leg = role as 'customer' | 'agent' | undefined;
        const snapshot = call.request.paused ? calls.suspend(callId, 'secure-pause', leg) : calls.resume(callId, leg);
        return { call: toCallInfo(snapshot) };
      }),
    StreamAudio:
      hub === undefined
        ? (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'StreamAudio needs the event hub', metadata: new grpc.Metadata() })
        : createStreamAudioHandler({ calls, hub, metrics, logger, access, logLimiter }),
  };
}
