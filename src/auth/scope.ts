import type { CallOwner, Principal } from './Principal.js';

/**
 * Whether `principal` may see a call (its events, its snapshot, its alerts):
 * an agent its own calls, a supervisor the calls of its queues, an admin all.
 * A call whose owner is unknown is visible to admins only.
 */
export function canSee(principal: Principal, call: CallOwner | undefined): boolean {
  switch (principal.role) {
    case 'admin':
      return true;
    case 'agent':
      return call !== undefined && principal.agentId !== undefined && call.agentId === principal.agentId;
    case 'supervisor':
      return call !== undefined && principal.queues.includes(call.queue);
    case 'pbx':
      return false;
  }
}

/** Whether `principal` may drive the control plane: start and end calls, push transcripts. */
export function canControlCalls(principal: Principal): boolean {
  return principal.role === 'admin' || principal.role === 'pbx';
}

/** Whether `principal` may read call metadata (GetCall, ListCalls, GET /v1/calls): everyone, scoped; the PBX all. */
export function canSeeCallMetadata(principal: Principal, call: CallOwner): boolean {
  return principal.role === 'pbx' || canSee(principal, call);
}

/** Whether `principal` may subscribe to events at all (a PBX credential may not). */
export function canReadEvents(principal: Principal): boolean {
  return principal.role !== 'pbx';
}

/** Whether `principal` may acknowledge an alert of a call in `queue`: a supervisor of that queue, or an admin. */
export function canAcknowledge(principal: Principal, queue: string): boolean {
  return principal.role === 'admin' || (principal.role === 'supervisor' && principal.queues.includes(queue));
}

/** Whether `principal` may operate the gateway itself (drain it): an admin only. */
export function canOperate(principal: Principal): boolean {
  return principal.role === 'admin';
}
