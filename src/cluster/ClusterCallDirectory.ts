import type { CallDirectory } from '../calls/CallDirectory.js';
import type { CallManager } from '../calls/CallManager.js';
import type { CallSnapshot } from '../calls/types.js';
import { GatewayError } from '../errors.js';
import type { CallEndReason } from '../events.js';
import type { CallRegistry } from './CallRegistry.js';
import type { InstanceCommands } from './InstanceCommands.js';

/**
 * The calls of the whole cluster for GetCall, ListCalls, EndCall and
 * GET /v1/calls: this gateway's own from memory, the others' from the call
 * registry in Redis; EndCall of another gateway's call is forwarded to it and
 * answered once it has ended the call. With Redis unreachable, this gateway's
 * own calls are still found (and listed alone); another's get UNAVAILABLE.
 */
export class ClusterCallDirectory implements CallDirectory {
  constructor(
    private readonly calls: CallManager,
    private readonly registry: CallRegistry,
    private readonly commands: InstanceCommands,
    private readonly instanceId: string,
  ) {}

  async list(): Promise<CallSnapshot[]> {
    if (!this.registry.connected) return this.calls.list();
    try {
      return await this.registry.list();
    } catch {
      return this.calls.list();
    }
  }

  async get(callId: string, visible: (call: CallSnapshot) => boolean = () => true): Promise<CallSnapshot> {
    const local = this.local(callId);
    const snapshot = local ?? (await this.remote(callId))?.snapshot;
    if (snapshot === undefined || !visible(snapshot)) throw notFound(callId);
    return snapshot;
  }

  async end(callId: string, reason: CallEndReason): Promise<CallSnapshot> {
    if (this.local(callId) !== undefined) return this.calls.end(callId, reason);
    const registered = await this.remote(callId);
    if (registered === undefined) throw notFound(callId);
    if (registered.snapshot.state === 'ended' || registered.instanceId === this.instanceId) return registered.snapshot;
    return this.commands.endCall(registered.instanceId, callId);
  }

  private local(callId: string): CallSnapshot | undefined {
    try {
      return this.calls.get(callId);
    } catch {
      return undefined;
    }
  }

  /** @throws GatewayError SGW_CLUSTER_UNAVAILABLE while the registry cannot be read: whether the call exists is not known. */
  private async remote(callId: string): ReturnType<CallRegistry['lookup']> {
    const unavailable = (): GatewayError => new GatewayError('SGW_CLUSTER_UNAVAILABLE', `call ${callId.slice(0, 128)} is not on this gateway, and the cluster's call registry cannot be read now`);
    if (!this.registry.connected) throw unavailable();
    try {
      return await this.registry.lookup(callId);
    } catch {
      throw unavailable();
    }
  }
}

function notFound(callId: string): GatewayError {
  return new GatewayError('SGW_CALL_NOT_FOUND', `call ${callId.slice(0, 128)} not found`);
}
