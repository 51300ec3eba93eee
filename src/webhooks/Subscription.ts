import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { GatewayError, invalidArgument } from '../errors.js';
import { EVENT_TYPES, isEventType, type GatewayEventType } from '../events.js';
import { webhookSecretKey } from './signature.js';

/**
 * A receiver of webhooks: the events of the listed types (none: every type)
 * of calls in the listed queues (none: every queue), POSTed to `url`, each
 * signed with `secret`. `source` says where it was defined: the file
 * (WEBHOOKS_FILE, changed by editing the file) or the admin API.
 */
export interface Subscription {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly types: readonly GatewayEventType[];
  readonly queues: readonly string[];
  readonly source: 'file' | 'api';
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_QUEUES = 256;

/**
 * Checks a subscription as a client or the file gave it (`where` names it in
 * errors: `subscriptions[2]`, the request body); the secret is required here,
 * the admin API generates one before when none is given.
 */
export function parseSubscription(raw: unknown, source: Subscription['source'], where: string): Subscription {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidArgument(where, 'must be an object with id, url, secret, types and queues');
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !['id', 'url', 'secret', 'types', 'queues'].includes(k));
  if (unknown.length > 0) throw invalidArgument(`${where}.${unknown[0] ?? ''}`, 'unknown field (known: id, url, secret, types, queues)');
  const { id, url, secret } = fields;
  if (typeof id !== 'string' || !ID.test(id)) throw invalidArgument(`${where}.id`, 'must be 1-64 letters, digits, _ or -');
  if (typeof url !== 'string') throw invalidArgument(`${where}.url`, 'must be an http:// or https:// URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`${where}.url`, `not a URL: '${url.slice(0, 200)}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidArgument(`${where}.url`, 'must be an http:// or https:// URL');
  if (typeof secret !== 'string') throw invalidArgument(`${where}.secret`, 'must be a whsec_ secret (Standard Webhooks)');
  const key = webhookSecretKey(secret);
  if (typeof key === 'string') throw invalidArgument(`${where}.secret`, key);
  const types = stringList(fields['types'], `${where}.types`, EVENT_TYPES.length);
  const bad = types.find((t) => !isEventType(t));
  if (bad !== undefined) throw invalidArgument(`${where}.types`, `unknown event type '${bad.slice(0, 64)}' (known: ${EVENT_TYPES.join(', ')})`);
  const queues = stringList(fields['queues'], `${where}.queues`, MAX_QUEUES);
  return { id, url, secret, types: types as GatewayEventType[], queues, source };
}

function stringList(value: unknown, where: string, max: number): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > max || !value.every((v): v is string => typeof v === 'string' && v !== '' && v.length <= 128)) {
    throw invalidArgument(where, `must be a list of at most ${max} non-empty strings`);
  }
  return [...new Set(value)];
}

/** Whether an event of `type` on a call of `queue` (undefined: the hub never saw its call start) goes to `subscription`. */
export function subscribes(subscription: Subscription, type: GatewayEventType, queue: string | undefined): boolean {
  if (subscription.types.length > 0 && !subscription.types.includes(type)) return false;
  if (subscription.queues.length === 0) return true;
  return queue !== undefined && subscription.queues.includes(queue);
}

/**
 * The subscriptions of WEBHOOKS_FILE (YAML, docs/integrations/webhooks.md):
 * `subscriptions:` a list of { id, url, secret, types, queues }. A secret may
 * be given as `env:NAME`, read from the environment, to keep it out of the
 * file. Any error stops start-up with the file and the entry named.
 */
export async function loadSubscriptionFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Subscription[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GatewayError('SGW_CONFIG', `WEBHOOKS_FILE: cannot read ${file} (${err instanceof Error ? err.message : String(err)})`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new GatewayError('SGW_CONFIG', `WEBHOOKS_FILE ${file}: ${doc.errors[0]?.message ?? 'not YAML'}`);
  const root: unknown = doc.toJS();
  const list = typeof root === 'object' && root !== null && !Array.isArray(root) ? (root as Record<string, unknown>)['subscriptions'] : undefined;
  if (!Array.isArray(list)) throw new GatewayError('SGW_CONFIG', `WEBHOOKS_FILE ${file}: expected a top-level 'subscriptions:' list`);
  const out: Subscription[] = [];
  for (const [i, entry] of list.entries()) {
    const where = `subscriptions[${i}]`;
    try {
      const withSecret = resolveSecret(entry, env, where);
      const subscription = parseSubscription(withSecret, 'file', where);
      if (out.some((s) => s.id === subscription.id)) throw invalidArgument(`${where}.id`, `'${subscription.id}' is used twice`);
      out.push(subscription);
    } catch (err) {
      if (err instanceof GatewayError) throw new GatewayError('SGW_CONFIG', `WEBHOOKS_FILE ${file}: ${err.message}`);
      throw err;
    }
  }
  return out;
}

function resolveSecret(entry: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof entry !== 'object' || entry === null) return entry;
  const secret = (entry as Record<string, unknown>)['secret'];
  if (typeof secret !== 'string' || !secret.startsWith('env:')) return entry;
  const name = secret.slice(4);
  const value = env[name];
  if (value === undefined || value === '') throw invalidArgument(`${where}.secret`, `environment variable ${name} is not set`);
  return { ...entry, secret: value };
}
