import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../auth/AccessControl.js';
import type { Principal } from '../auth/Principal.js';
import { canOperate, canSee } from '../auth/scope.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CallRecord } from '../insights/CallRecord.js';
import type { EraseResult, ReasonBucketRow, ReportQuery } from '../insights/CallRecordStore.js';
import { buildReport } from '../insights/ContactReasonReport.js';
import { reasonsCsv, trendCsv } from '../insights/reportFormats.js';
import { reportQuery } from '../insights/reportQuery.js';

/** What the routes read from the call-record store (CallRecordService). */
export interface CallRecordReader {
  get(callId: string): Promise<CallRecord | undefined>;
  erase(callId: string): Promise<EraseResult>;
  reasonBuckets(query: ReportQuery): Promise<ReasonBucketRow[]>;
}

export interface CallRecordRoutesOptions {
  /** Undefined with DATABASE_FILE=off: every route answers 404 SGW_STORE_OFF. */
  readonly records: CallRecordReader | undefined;
  /** Whether a call is still running (its record does not exist yet). */
  readonly isActive: (callId: string) => boolean;
  readonly access: AccessControl;
  readonly logger: Logger;
}

export const INSIGHTS_PATH = '/v1/insights/contact-reasons';
const CALL_PATH = /^\/v1\/calls\/([^/]{1,400})$/;

type Send = (res: ServerResponse, status: number, body: unknown) => void;

/**
 * The finished calls' side of the HTTP API: `GET /v1/calls/{id}` (the
 * record, and its transcript when retained; scoped as the live calls are),
 * `DELETE /v1/calls/{id}` (erase: admin), and
 * `GET /v1/insights/contact-reasons` (JSON, or CSV with `Accept: text/csv`
 * or `format=csv`). A record outside the token's scope is answered as an
 * unknown one (404), so ids cannot be probed; a PBX credential reads no
 * records (403).
 */
export class CallRecordRoutes {
  constructor(private readonly options: CallRecordRoutesOptions) {}

  /** Whether `pathname` is one of these routes. */
  matches(pathname: string): boolean {
    return pathname === INSIGHTS_PATH || CALL_PATH.test(pathname);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal, send: Send): Promise<void> {
    if (url.pathname === INSIGHTS_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
      return this.insights(req, res, url, principal, send);
    }
    const match = CALL_PATH.exec(url.pathname);
    let callId: string;
    try {
      callId = decodeURIComponent(match?.[1] ?? '');
    } catch {
      throw new GatewayError('SGW_INVALID_ARGUMENT', 'call id: not a valid URL path segment');
    }
    if (req.method === 'DELETE') return this.erase(res, callId, principal);
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD, DELETE');
    return this.record(res, callId, principal, send);
  }

  private store(): CallRecordReader {
    if (this.options.records === undefined) throw new GatewayError('SGW_STORE_OFF', 'no call-record store is configured on this gateway (DATABASE_FILE=off and no DATABASE_URL)');
    return this.options.records;
  }

  private async record(res: ServerResponse, callId: string, principal: Principal, send: Send): Promise<void> {
    if (principal.role === 'pbx') throw this.options.access.forbidden('http', 'call records need role agent, supervisor or admin, not pbx');
    const record = await this.read(() => this.store().get(callId));
    // Out of scope reads exactly as unknown: no existence oracle.
    if (record === undefined || !canSee(principal, record)) throw this.notFound(callId);
    send(res, 200, recordView(record));
  }

  private async erase(res: ServerResponse, callId: string, principal: Principal): Promise<void> {
    if (!canOperate(principal)) throw this.options.access.forbidden('http', `erasing a call needs role admin, not ${principal.role}`);
    if (this.options.isActive(callId)) throw new GatewayError('SGW_CALL_ACTIVE', `call ${callId} is still running: erase it once it has ended`);
    const result = await this.read(() => this.store().erase(callId));
    if (!result.found) throw this.notFound(callId);
    this.options.logger.info({ callId, transcriptLines: result.transcriptLines, by: principal.subject }, 'call record erased');
    res.writeHead(204, { 'cache-control': 'no-store' }).end();
  }

  private async insights(req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal, send: Send): Promise<void> {
    const p = url.searchParams;
    const param = (name: string): string | undefined => p.get(name) ?? undefined;
    let parsed: ReturnType<typeof reportQuery>;
    try {
      parsed = reportQuery({ from: param('from'), to: param('to'), queue: param('queue'), language: param('language'), agent: param('agent'), bucket: param('bucket') }, principal);
    } catch (err) {
      // Refusals for scope are counted as every other 403.
      if (err instanceof GatewayError && err.code === 'SGW_PERMISSION_DENIED') throw this.options.access.forbidden('http', err.message);
      throw err;
    }
    const { query, filters } = parsed;
    const format = param('format') ?? (/\btext\/csv\b/.test(req.headers.accept ?? '') ? 'csv' : 'json');
    if (format !== 'json' && format !== 'csv') throw new GatewayError('SGW_INVALID_ARGUMENT', 'format: must be json or csv');
    const table = param('table') ?? 'reasons';
    if (table !== 'reasons' && table !== 'trend') throw new GatewayError('SGW_INVALID_ARGUMENT', 'table: must be reasons or trend (CSV)');
    const rows = await this.read(() => this.store().reasonBuckets(query));
    const report = buildReport(rows, query, filters);
    if (format === 'json') {
      send(res, 200, report);
      return;
    }
    const body = table === 'trend' ? trendCsv(report) : reasonsCsv(report);
    const name = `contact-reasons-${table}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv`;
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"`, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
  }

  /** A store read; an unreachable database is a 503 the client may repeat, not a 500. */
  private async read<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      this.options.logger.warn({ err: errorMessage(err) }, 'call-record database read failed');
      throw new GatewayError('SGW_STORE_UNAVAILABLE', 'the call-record database is not answering; try again later', { cause: err });
    }
  }

  private notFound(callId: string): GatewayError {
    return new GatewayError('SGW_CALL_NOT_FOUND', `no record of call ${callId.slice(0, 128)}`);
  }
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.writeHead(405, { allow, 'content-type': 'text/plain' }).end('method not allowed\n');
}

/** A record as the API shows it: times of day as ISO 8601, the transcript null when not retained. */
export function recordView(record: CallRecord): Record<string, unknown> {
  return {
    ...record,
    startedAt: new Date(record.startedAt).toISOString(),
    endedAt: new Date(record.endedAt).toISOString(),
    erasedAt: record.erasedAt === null ? null : new Date(record.erasedAt).toISOString(),
  };
}
