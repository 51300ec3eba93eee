import type { CallEndReason } from '../events.js';
import type { CallManager } from './CallManager.js';
import type { CallSnapshot } from './types.js';

/**
 * Where GetCall, ListCalls, EndCall and GET /v1/calls find calls: this
 * gateway's own (a gateway alone), or every gateway's of the cluster
 * (cluster/ClusterCallDirectory). Scope is the caller's, applied to snapshots.
 */
export interface CallDirectory {
  /** Active calls. */
  list(): Promise<CallSnapshot[]>;
  /**
   * An active or recently ended call, if `visible` allows it; one out of
   * scope is answered exactly as an unknown one.
   * @throws GatewayError SGW_CALL_NOT_FOUND
   */
  get(callId: string, visible?: (call: CallSnapshot) => boolean): Promise<CallSnapshot>;
  /** Ends a call (an ended one is returned as it is). @throws GatewayError SGW_CALL_NOT_FOUND */
  end(callId: string, reason: CallEndReason): Promise<CallSnapshot>;
}

/** The calls of this gateway alone. */
export class LocalCallDirectory implements CallDirectory {
  constructor(private readonly calls: CallManager) {}

  list(): Promise<CallSnapshot[]> {
    return Promise.resolve(this.calls.list());
  }

  get(callId: string, visible?: (call: CallSnapshot) => boolean): Promise<CallSnapshot> {
    return Promise.resolve().then(() => this.calls.get(callId, visible));
  }

  end(callId: string, reason: CallEndReason): Promise<CallSnapshot> {
    return this.calls.end(callId, reason);
  }
}
