/**
 * Which recorded stream is the customer and which the agent (SIPREC_LEGS).
 * SIPREC itself does not say (RFC 7865 has participants and streams, no
 * roles), so the operator picks a rule:
 *
 * - `direction:inbound` (default): calls come in; the caller is the customer.
 *   The caller's stream is the SRC's first audio m-line, the order SRCs
 *   commonly use (check yours with one test call: docs/integrations/siprec.md).
 * - `direction:outbound`: calls go out; the caller (first m-line) is the agent.
 * - `aor:<regex>`: the stream sent by a participant whose AoR matches is the
 *   agent's, the other the customer's (e.g. `aor:^sip:agent-`).
 * - `label:<customer label>,<agent label>`: by the m-lines' `a=label`.
 *
 * A rule the session cannot answer (no metadata for `aor`, labels not found)
 * falls back to `direction:inbound`, and says so.
 */
import type { LegRole } from '../../events.js';

export type LegRule =
  | { readonly kind: 'direction'; readonly callerIs: LegRole }
  | { readonly kind: 'aor'; readonly agent: RegExp }
  | { readonly kind: 'label'; readonly customer: string; readonly agent: string };

/** @returns the rule, or what is wrong with `text`. */
export function parseLegRule(text: string): LegRule | string {
  const colon = text.indexOf(':');
  const kind = colon === -1 ? text : text.slice(0, colon);
  const value = colon === -1 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'direction':
      if (value === 'inbound') return { kind, callerIs: 'customer' };
      if (value === 'outbound') return { kind, callerIs: 'agent' };
      return 'direction:inbound or direction:outbound';
    case 'aor':
      if (value === '') return 'aor:<regular expression> matching agents\' AoRs';
      try {
        return { kind, agent: new RegExp(value, 'i') };
      } catch {
        return `aor:<regular expression>, and '${value.slice(0, 40)}' is not one`;
      }
    case 'label': {
      const [customer = '', agent = '', ...rest] = value.split(',').map((v) => v.trim());
      if (customer === '' || agent === '' || rest.length > 0 || customer === agent) return 'label:<customer label>,<agent label> (two different labels)';
      return { kind, customer, agent };
    }
    default:
      return 'direction:inbound, direction:outbound, aor:<regex> or label:<customer>,<agent>';
  }
}

/** A stream the SRS takes, as the rule sees it. */
export interface RuleStream {
  readonly label: string | undefined;
  /** AoR of the participant sending it, from the metadata. */
  readonly senderAor: string | undefined;
}

/**
 * Roles for `streams` (the taken ones, in m-line order): index → role, at
 * most one stream per role; streams left out are refused. `fallback` is set
 * when the rule could not decide and stream order did.
 */
export function assignLegs(rule: LegRule, streams: readonly RuleStream[]): { roles: Map<number, LegRole>; fallback: boolean } {
  const roles = new Map<number, LegRole>();
  const byOrder = (callerIs: LegRole): Map<number, LegRole> => {
    const order = new Map<number, LegRole>();
    if (streams.length > 0) order.set(0, callerIs);
    if (streams.length > 1) order.set(1, callerIs === 'customer' ? 'agent' : 'customer');
    return order;
  };
  if (rule.kind === 'direction') return { roles: byOrder(rule.callerIs), fallback: false };
  const roleOf = (stream: RuleStream): LegRole | undefined => {
    if (rule.kind === 'label') return stream.label === rule.customer ? 'customer' : stream.label === rule.agent ? 'agent' : undefined;
    if (stream.senderAor === undefined) return undefined;
    return rule.agent.test(stream.senderAor) ? 'agent' : 'customer';
  };
  streams.forEach((stream, i) => {
    const role = roleOf(stream);
    if (role !== undefined && ![...roles.values()].includes(role)) roles.set(i, role);
  });
  // Decided when every taken stream got its own role (up to two).
  if (roles.size === Math.min(2, streams.length) && roles.size > 0) return { roles, fallback: false };
  return { roles: byOrder('customer'), fallback: true };
}
