import type { EventFeed } from '../calls/EventBus.js';
import type { EscalationEvent } from '../events.js';

/** What a supervisor wall shows of an active call beyond its snapshot. */
export interface CallLiveState {
  /**
   * The contact reason so far: the customer's first contact-reason intent
   * (kind `intent`), the rule the post-call record's `primaryContactReason`
   * uses; undefined until one is heard.
   */
  readonly contactReason: string | undefined;
  readonly escalationLevel: EscalationEvent['level'];
  /** Unacknowledged alerts are in the AlertStore; this is the count raised on the call so far. */
  readonly alerts: number;
}

/**
 * Follows the event stream and keeps, per active call, what analytics has
 * said so far (contact reason, escalation level), so GET /v1/calls can show a
 * wall opened mid-call the same thing as one that watched from the start.
 * Entries are dropped at the call's `call.summary` (or its `call.ended` when
 * it ended with the gateway that had it: `instance-lost`, no summary).
 */
export class CallBoard {
  private readonly calls = new Map<string, { contactReason: string | undefined; escalationLevel: EscalationEvent['level']; alerts: number }>();
  private readonly unsubscribe: () => void;

  constructor(hub: EventFeed) {
    this.unsubscribe = hub.subscribe((event) => {
      switch (event.type) {
        case 'call.started':
          this.calls.set(event.callId, { contactReason: undefined, escalationLevel: 'calm', alerts: 0 });
          return;
        case 'intent': {
          const call = this.calls.get(event.callId);
          if (call !== undefined && event.kind === 'intent' && event.leg === 'customer') call.contactReason ??= event.intent;
          return;
        }
        case 'escalation': {
          const call = this.calls.get(event.callId);
          if (call !== undefined) call.escalationLevel = event.level;
          return;
        }
        case 'alert': {
          const call = this.calls.get(event.callId);
          if (call !== undefined) call.alerts += 1;
          return;
        }
        case 'call.summary':
          this.calls.delete(event.callId);
          return;
        case 'call.ended':
          // A call of a lost gateway ends without a summary.
          if (event.reason === 'instance-lost') this.calls.delete(event.callId);
          return;
        default:
          return;
      }
    }, 'call-board');
  }

  get(callId: string): CallLiveState | undefined {
    const call = this.calls.get(callId);
    return call === undefined ? undefined : { ...call };
  }

  close(): void {
    this.unsubscribe();
  }
}
