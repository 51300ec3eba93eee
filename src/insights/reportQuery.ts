import type { Principal } from '../auth/Principal.js';
import { GatewayError, invalidArgument } from '../errors.js';
import { isLanguage, LANGUAGES } from '../language.js';
import { BUCKET_MS, type Bucket } from './buckets.js';
import type { ReportQuery } from './CallRecordStore.js';
import type { ReportFilters } from './ContactReasonReport.js';

/** The parameters of `GET /v1/insights/contact-reasons` and the `report` command, as given. */
export interface ReportParameters {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly queue?: string | undefined;
  readonly language?: string | undefined;
  readonly agent?: string | undefined;
  readonly bucket?: string | undefined;
}

/** The period when none is given: the last seven days. */
export const DEFAULT_PERIOD_MS = 7 * 86_400_000;
/** Longest period: a year and a month, so a year compared with the one before fits. */
const MAX_PERIOD_MS = 400 * 86_400_000;
/** Most trend buckets one report returns (hourly: about 83 days). */
const MAX_BUCKETS = 2000;
/** Queue and agent names: what StartCall accepts, and no control characters. */
const LABEL = /^[\p{L}\p{N}\p{P}\p{S} ]{1,128}$/u;

/**
 * The store query and the filters a report says back, from the parameters and
 * the asker's scope: an agent counts only their own calls (asking for another
 * agent is refused), a supervisor only their queues (all of them unless one
 * is asked for; another queue is refused), an admin everything; a PBX
 * credential reads no insights. `principal` undefined: the operator at the
 * database (the `report` command), unscoped.
 * @throws GatewayError SGW_INVALID_ARGUMENT naming the parameter; SGW_PERMISSION_DENIED out of scope.
 */
export function reportQuery(params: ReportParameters, principal: Principal | undefined, now = Date.now()): { query: ReportQuery; filters: ReportFilters } {
  const to = params.to === undefined ? now : time('to', params.to);
  const from = params.from === undefined ? to - DEFAULT_PERIOD_MS : time('from', params.from);
  if (from >= to) throw invalidArgument('from', 'must be before to');
  if (to - from > MAX_PERIOD_MS) throw invalidArgument('from', `the period may be at most ${MAX_PERIOD_MS / 86_400_000} days`);
  const bucketName = params.bucket ?? 'day';
  if (bucketName !== 'day' && bucketName !== 'hour') throw invalidArgument('bucket', 'must be day or hour');
  const bucket: Bucket = bucketName;
  if (Math.ceil((to - (from - (from % BUCKET_MS[bucket]))) / BUCKET_MS[bucket]) > MAX_BUCKETS) throw invalidArgument('bucket', `${bucket} buckets over this period would be more than ${MAX_BUCKETS}; ask for a shorter period or bucket=day`);
  const queue = label('queue', params.queue);
  const agent = label('agent', params.agent);
  const language = params.language === undefined || params.language === '' ? undefined : params.language;
  if (language !== undefined && !isLanguage(language)) throw invalidArgument('language', `must be one of ${LANGUAGES.join(', ')}`);

  let queues: readonly string[] | undefined = queue === undefined ? undefined : [queue];
  let agentId = agent;
  switch (principal?.role) {
    case undefined:
    case 'admin':
      break;
    case 'supervisor':
      if (queue !== undefined && !principal.queues.includes(queue)) throw forbidden(`queue ${queue} is not one this token supervises`);
      queues ??= principal.queues;
      break;
    case 'agent':
      if (agent !== undefined && agent !== principal.agentId) throw forbidden('an agent token sees its own calls only');
      agentId = principal.agentId;
      break;
    case 'pbx':
      throw forbidden('insights need role agent, supervisor or admin, not pbx');
  }
  return {
    query: { from, to, bucket, ...(queues === undefined ? {} : { queues }), ...(language === undefined ? {} : { language }), ...(agentId === undefined ? {} : { agentId }) },
    filters: { queue: queue ?? null, queues: queues === undefined ? null : [...queues], language: language ?? null, agent: agentId ?? null },
  };
}

function time(name: string, value: string): number {
  // ISO 8601 only: a date, or a date-time with a zone (a bare local time would depend on the server's zone).
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidArgument(name, 'must be an ISO 8601 date (2026-11-01, UTC) or date-time with a zone (2026-11-01T00:00:00Z)');
  return ms;
}

function label(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!LABEL.test(value)) throw invalidArgument(name, 'must be 1-128 characters without control characters');
  return value;
}

function forbidden(message: string): GatewayError {
  return new GatewayError('SGW_PERMISSION_DENIED', message);
}
