/**
 * Who is asking, from a verified token: a role, the agent id of an agent and
 * the queues of a supervisor. Roles:
 *
 * - `agent`: the events of calls handled by `agentId`;
 * - `supervisor`: the events of calls in one of `queues`;
 * - `admin`: everything, control plane included;
 * - `pbx`: the control plane (StartCall, EndCall, PushTranscript, GetCall,
 *   ListCalls, /v1/transcripts) and no events: a PBX credential cannot read
 *   transcripts.
 */
export const ROLES = ['agent', 'supervisor', 'admin', 'pbx'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Principal {
  readonly role: Role;
  /** The token's `sub`: who the person or system is (for audit, e.g. who acknowledged an alert). */
  readonly subject: string;
  /** Role agent: the agent whose calls this principal sees. */
  readonly agentId: string | undefined;
  /** Role supervisor: the queues whose calls this principal sees. */
  readonly queues: readonly string[];
  /** When the token stops being valid (its `exp`), ms since the Unix epoch; absent: never (authentication off). */
  readonly expiresAt?: number;
}

/** What a call is scoped by: who handles it, and in which queue. */
export interface CallOwner {
  readonly agentId: string;
  readonly queue: string;
}

/** The principal of every request when authentication is off (no JWT key configured). */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({ role: 'admin', subject: 'anonymous', agentId: undefined, queues: Object.freeze([]) });
