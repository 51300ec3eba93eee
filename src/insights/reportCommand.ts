import { loadConfig } from '../config.js';
import { errorMessage, GatewayError } from '../errors.js';
import { createLogger } from '../logger.js';
import { buildReport } from './ContactReasonReport.js';
import { openCallRecordStore } from './openCallRecordStore.js';
import { reasonsCsv, reportText, trendCsv } from './reportFormats.js';
import { reportQuery } from './reportQuery.js';

const REPORT_FLAGS = ['--from', '--to', '--queue', '--language', '--agent', '--bucket', '--format', '--table'] as const;

export const REPORT_USAGE =
  'speech-gateway report [--from 2026-11-01] [--to 2026-12-01] [--queue Q] [--language en-US|nl-NL] [--agent A] [--bucket day|hour] [--format text|csv|json] [--table reasons|trend]   (reads DATABASE_URL or DATABASE_FILE)';

/**
 * `speech-gateway report --from … --to … [--queue …] [--format text|csv|json]`:
 * the contact-reason report of GET /v1/insights/contact-reasons, printed from
 * the configured database (DATABASE_URL, else DATABASE_FILE) for people who
 * live in a terminal. Unscoped: whoever can read the database sees it all.
 * Exit codes: 0 printed, 2 a bad argument, 69 the database did not answer,
 * 78 a bad configuration.
 */
export async function runReportCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if ((REPORT_FLAGS as readonly string[]).includes(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) return usage(`${flag} needs a value`);
      values.set(flag, value);
    } else if (flag === '--help' || flag === '-h') {
      console.log(`Usage: ${REPORT_USAGE}`);
      return 0;
    } else {
      rest.push(arg);
    }
  }
  const format = values.get('--format') ?? 'text';
  if (format !== 'text' && format !== 'csv' && format !== 'json') return usage('--format must be text, csv or json');
  const table = values.get('--table') ?? 'reasons';
  if (table !== 'reasons' && table !== 'trend') return usage('--table must be reasons or trend');
  let parsed: ReturnType<typeof reportQuery>;
  try {
    parsed = reportQuery({ from: values.get('--from'), to: values.get('--to'), queue: values.get('--queue'), language: values.get('--language'), agent: values.get('--agent'), bucket: values.get('--bucket') }, undefined);
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'SGW_INVALID_ARGUMENT') return usage(err.message);
    throw err;
  }
  const config = loadConfig(rest, env);
  const store = openCallRecordStore(config, createLogger('silent'));
  if (store === undefined) throw new GatewayError('SGW_CONFIG', 'no call-record database: set DATABASE_URL, or DATABASE_FILE to the SQLite file (it is off)');
  try {
    const rows = await store.reasonBuckets(parsed.query);
    const report = buildReport(rows, parsed.query, parsed.filters);
    process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'csv' ? (table === 'trend' ? trendCsv(report) : reasonsCsv(report)) : reportText(report));
    return 0;
  } catch (err) {
    console.error(`speech-gateway report: the call-record database (${store.location}) did not answer: ${errorMessage(err)}`);
    return 69;
  } finally {
    await store.close();
  }
}

function usage(problem: string): number {
  console.error(`speech-gateway report: ${problem}\nUsage: ${REPORT_USAGE}`);
  return 2;
}
