/**
 * Post-call records and contact-reason insights through a real gateway, on
 * real SQLite and real PostgreSQL (the same cases on both):
 *
 * - calls streamed end to end (transcripts-only calls fed by gRPC
 *   PushTranscript and by the /v1/transcripts WebSocket) leave records with
 *   the right primary reason, the grammar's avoidable / channel / churn-risk
 *   marks, repeat contact, every intent with leg, source and evidence, and
 *   the redacted transcript of both legs (retention on);
 * - GET /v1/calls/{id} is scoped as the live calls are: own calls for agents,
 *   their queues for supervisors, all for admins; out of scope reads exactly
 *   as unknown (404), a PBX credential is refused (403), no token 401;
 * - GET /v1/insights/contact-reasons: its figures equal those computed in
 *   this test from the records it wrote (2 000 synthetic calls over a month,
 *   no SQL involved), overall and per filter, per day and per hour, as JSON
 *   and CSV, for admin, supervisor and agent tokens (scoped; another queue or
 *   agent refused with 403); bad parameters are 400 naming the parameter;
 * - the `report` command prints the same figures from the configured database;
 * - DELETE /v1/calls/{id} (admin only) erases the transcript and free text;
 * - with retention off no transcript is kept;
 * - /readyz carries the call-store check; on PostgreSQL, the database stopped
 *   mid-run loses no record of the calls that end meanwhile: they land when
 *   it is back, and the gateway stays ready throughout.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { seeded, syntheticRecord } from '../../loadtest/syntheticRecords.js';
import type { CallRecord } from '../../src/insights/CallRecord.js';
import type { CallRecordStore } from '../../src/insights/CallRecordStore.js';
import type { ContactReasonReport } from '../../src/insights/ContactReasonReport.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { DIALECTS, storeHarness, type StoreHarness } from '../helpers/callStores.js';
import { metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const DAY = 86_400_000;
/** The synthetic month: March 2026, UTC. */
const MONTH = { from: Date.UTC(2026, 2, 1), to: Date.UTC(2026, 3, 1) };
const SYNTHETIC = 2000;

type Json = Record<string, unknown>;

/** The report computed from records alone: the test's own arithmetic, no SQL. */
function expected(records: readonly CallRecord[], q: { from: number; to: number; bucket: 'day' | 'hour'; queues?: readonly string[]; language?: string; agent?: string }): Omit<ContactReasonReport, 'from' | 'to' | 'bucket' | 'filters'> {
  const share = (part: number, whole: number): number => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);
  const escalated = (r: CallRecord): boolean => r.escalation.peakLevel === 'high' || r.escalation.peakLevel === 'critical';
  const chosen = records.filter((r) => r.startedAt >= q.from && r.startedAt < q.to && (q.queues === undefined || q.queues.includes(r.queue)) && (q.language === undefined || r.language === q.language) && (q.agent === undefined || r.agentId === q.agent));
  const groups = new Map<string, CallRecord[]>();
  for (const r of chosen) groups.set(r.primaryReason ?? 'none', [...(groups.get(r.primaryReason ?? 'none') ?? []), r]);
  const reasons = [...groups]
    .map(([reason, rs]) => ({
      reason,
      calls: rs.length,
      share: share(rs.length, chosen.length),
      avoidable: rs.some((r) => r.avoidable),
      channel: rs.find((r) => r.avoidable)?.selfServiceChannel ?? null,
      churnRisk: rs.some((r) => r.churnRisk),
      escalationRate: share(rs.filter(escalated).length, rs.length),
      repeatContactShare: share(rs.filter((r) => r.repeatContact).length, rs.length),
    }))
    .sort((a, b) => b.calls - a.calls || a.reason.localeCompare(b.reason));
  const size = q.bucket === 'day' ? DAY : 3_600_000;
  const trend = [];
  for (let start = Math.floor(q.from / size) * size; start < q.to; start += size) {
    const inBucket = chosen.filter((r) => r.startedAt >= start && r.startedAt < start + size);
    const byReason: Record<string, number> = {};
    for (const reason of reasons.map((r) => r.reason)) {
      const n = inBucket.filter((r) => (r.primaryReason ?? 'none') === reason).length;
      if (n > 0) byReason[reason] = n;
    }
    trend.push({ bucket: new Date(start).toISOString(), calls: inBucket.length, byReason });
  }
  return {
    calls: chosen.length,
    avoidableShare: share(chosen.filter((r) => r.avoidable).length, chosen.length),
    repeatContactShare: share(chosen.filter((r) => r.repeatContact).length, chosen.length),
    escalationRate: share(chosen.filter(escalated).length, chosen.length),
    reasons,
    trend,
  };
}

const figures = (report: ContactReasonReport) => ({ calls: report.calls, avoidableShare: report.avoidableShare, repeatContactShare: report.repeatContactShare, escalationRate: report.escalationRate, reasons: report.reasons, trend: report.trend });

for (const dialect of DIALECTS) {
  describe(`insights on ${dialect}`, () => {
    let harness: StoreHarness;
    let gw: TestGateway;
    let base: string;
    let dir: string;
    let writer: CallRecordStore;
    const synthetic: CallRecord[] = [];
    const tokens: Record<string, string> = {};

    before(async () => {
      harness = await storeHarness(dialect);
      dir = await mkdtemp(path.join(tmpdir(), `sgw-insights-${dialect}-`));
      gw = await startTestGateway({
        rtpPortMin: 49200,
        rtpPortMax: 49209,
        asr: 'none',
        jwtSecret: TEST_SECRET,
        rtpTimeoutMs: 30_000,
        callRecordsJsonl: false,
        ...harness.settings,
        callStoreSpillFile: path.join(dir, 'spill.jsonl'),
        transcriptRetention: true,
      });
      base = `http://127.0.0.1:${gw.addresses.http.port}`;
      tokens['admin'] = await hsToken({ role: 'admin' });
      tokens['agent1'] = await hsToken({ role: 'agent', agentId: 'agent-1' });
      tokens['agent2'] = await hsToken({ role: 'agent', agentId: 'agent-2' });
      tokens['orders'] = await hsToken({ role: 'supervisor', subject: 'sup-orders', queues: ['orders'] });
      tokens['retention'] = await hsToken({ role: 'supervisor', subject: 'sup-retention', queues: ['retention', 'billing'] });
      tokens['pbx'] = await hsToken({ role: 'pbx', subject: 'pbx-1' });
      // A month of calls written straight into the database beside the gateway, as another instance of a cluster would.
      const rand = seeded(16);
      for (let i = 0; i < SYNTHETIC; i++) synthetic.push(syntheticRecord(rand, i, { from: MONTH.from, days: 31, prefix: 'march' }));
      writer = harness.open();
      await writer.write(synthetic);
    });

    after(async () => {
      await writer.close();
      await gw.close();
      await harness.destroy();
      await rm(dir, { recursive: true, force: true });
    });

    const request = (pathname: string, token: string | undefined, init: RequestInit = {}): Promise<Response> =>
      fetch(`${base}${pathname}`, { ...init, headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(init.headers as Record<string, string> | undefined) } });
    const getJson = async (pathname: string, token: string | undefined = tokens['admin']): Promise<{ status: number; body: Json }> => {
      const res = await request(pathname, token);
      return { status: res.status, body: (await res.json()) as Json };
    };

    const push = (callId: string, role: 'LEG_ROLE_CUSTOMER' | 'LEG_ROLE_AGENT', utteranceId: number, text: string, startMs: number): Promise<void> =>
      new Promise((resolve, reject) => gw.control.raw.PushTranscript({ call_id: callId, role, text, final: true, utterance_id: utteranceId, start_ms: startMs, end_ms: startMs + 2000 }, (err) => (err ? reject(err) : resolve())));
    const pushCall = async (callId: string, agentId: string, queue: string, language: 'en-US' | 'nl-NL', lines: readonly ['customer' | 'agent', string][]): Promise<void> => {
      await gw.control.startCall({ call_id: callId, agent_id: agentId, queue, language, transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
      for (const [i, [leg, text]] of lines.entries()) await push(callId, leg === 'customer' ? 'LEG_ROLE_CUSTOMER' : 'LEG_ROLE_AGENT', i, text, i * 3000);
      await gw.control.endCall(callId);
    };
    /** Polls GET /v1/calls/{id} (admin) until the record is there. */
    const recordOf = async (callId: string, timeoutMs = 10_000): Promise<Json> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { status, body } = await getJson(`/v1/calls/${callId}`);
        if (status === 200) return body;
        if (Date.now() > deadline) assert.fail(`no record of ${callId} after ${timeoutMs} ms (last answer ${status} ${JSON.stringify(body)})`);
        await sleep(100);
      }
    };

    test('calls streamed end to end leave records with the right reasons, marks, intents and redacted transcripts of both legs', async () => {
      const testStarted = Date.now();
      await pushCall(`${dialect}-wismo`, 'agent-1', 'orders', 'en-US', [
        ['agent', 'thank you for calling how can i help'],
        ['customer', 'where is my order it has not arrived and this is the third time i am calling'],
        ['customer', 'my card number is four one one one one one one one one one one one one one one one'],
        ['agent', 'let me check the tracking for you'],
      ]);
      await pushCall(`${dialect}-leaving`, 'agent-2', 'retention', 'nl-NL', [['customer', 'ik wil mijn abonnement opzeggen'], ['agent', 'dat is jammer waarom wilt u weg']]);
      await pushCall(`${dialect}-refund`, 'agent-2', 'billing', 'en-US', [['customer', 'where is my refund i sent the parcel back weeks ago']]);
      await pushCall(`${dialect}-nothing`, 'agent-1', 'orders', 'en-US', [['customer', 'hello i just wanted to say thank you']]);
      // The same through the WebSocket ingest.
      const ws = new WebSocket(`ws://127.0.0.1:${gw.addresses.http.port}/v1/transcripts`, { headers: { authorization: `Bearer ${tokens['admin'] ?? ''}` } });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const id = `${dialect}-ws-cancel`;
      ws.send(JSON.stringify({ type: 'call.start', callId: id, agentId: 'agent-1', queue: 'orders', language: 'en-US', legs: ['customer', 'agent'] }));
      ws.send(JSON.stringify({ type: 'transcript', callId: id, leg: 'customer', text: 'i want to cancel my order number four five six seven', final: true, utteranceId: 0, startMs: 0, endMs: 2500 }));
      ws.send(JSON.stringify({ type: 'call.end', callId: id }));

      const wismo = await recordOf(`${dialect}-wismo`);
      assert.equal(wismo['primaryReason'], 'order_status');
      assert.equal(wismo['avoidable'], true);
      assert.equal(wismo['selfServiceChannel'], 'track-and-trace page');
      assert.equal(wismo['churnRisk'], false);
      assert.equal(wismo['repeatContact'], true);
      assert.equal(wismo['queue'], 'orders');
      assert.equal(wismo['agentId'], 'agent-1');
      assert.equal(wismo['language'], 'en-US');
      assert.equal(wismo['endReason'], 'ended-by-request');
      assert.match(String(wismo['startedAt']), /^\d{4}-\d\d-\d\dT/);
      const intents = wismo['intents'] as { intent: string; kind: string; leg: string; source: string; evidence: string; atMs: number; confidence: number }[];
      const status = intents.find((i) => i.intent === 'order_status');
      assert.ok(status && status.kind === 'intent' && status.leg === 'customer' && status.source === 'transcript' && status.atMs >= 3000 && status.confidence > 0, JSON.stringify(intents));
      assert.ok(intents.some((i) => i.intent === 'repeat_contact' && i.kind === 'escalation'), JSON.stringify(intents));
      const transcript = wismo['transcript'] as { leg: string; text: string; startMs: number }[];
      assert.deepEqual(transcript.map((t) => t.leg), ['agent', 'customer', 'customer', 'agent'], 'both legs, in time order');
      assert.ok(transcript[2]?.text.includes('[card]') && !/one one one/.test(JSON.stringify(wismo)), `redacted as the live transcript is: ${transcript[2]?.text}`);
      const talk = wismo['talk'] as Json;
      assert.ok(typeof talk['customerRatio'] === 'number' && typeof talk['longestSilenceMs'] === 'number' && typeof talk['overtalkMs'] === 'number');

      const leaving = await recordOf(`${dialect}-leaving`);
      assert.deepEqual([leaving['primaryReason'], leaving['churnRisk'], leaving['avoidable'], leaving['language']], ['churn', true, false, 'nl-NL']);
      const refund = await recordOf(`${dialect}-refund`);
      assert.deepEqual([refund['primaryReason'], refund['avoidable'], refund['selfServiceChannel']], ['refund_request', true, 'self-service returns portal']);
      const nothing = await recordOf(`${dialect}-nothing`);
      assert.deepEqual([nothing['primaryReason'], nothing['avoidable'], nothing['reasons']], [null, false, []]);
      const cancel = await recordOf(id);
      assert.deepEqual([cancel['primaryReason'], cancel['avoidable'], cancel['churnRisk']], ['cancel_order', false, false]);
      ws.close();

      // A report over the minutes of this test counts exactly these five calls, by the reasons the records say.
      const { body } = await getJson(`/v1/insights/contact-reasons?from=${new Date(testStarted - 60_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}&bucket=hour`);
      const report = body as unknown as ContactReasonReport;
      const counts = Object.fromEntries(report.reasons.map((r) => [r.reason, r.calls]));
      assert.deepEqual(counts, { order_status: 1, churn: 1, refund_request: 1, none: 1, cancel_order: 1 });
      assert.equal(report.avoidableShare, 0.4);
      assert.equal(report.repeatContactShare, 0.2);
    });

    test('GET /v1/calls/{id}: agents their own calls, supervisors their queues, admins all; out of scope reads as unknown; PBX 403; no token 401', async () => {
      const callId = `${dialect}-wismo`;
      await recordOf(callId);
      assert.equal((await getJson(`/v1/calls/${callId}`, tokens['agent1'])).status, 200);
      assert.equal((await getJson(`/v1/calls/${callId}`, tokens['orders'])).status, 200);
      const other = await getJson(`/v1/calls/${callId}`, tokens['agent2']);
      const unknown = await getJson('/v1/calls/no-such-call', tokens['agent2']);
      assert.equal(other.status, 404);
      assert.deepEqual((other.body['error'] as Json)['code'], 'SGW_CALL_NOT_FOUND');
      assert.equal((other.body['error'] as Json)['message'], String((unknown.body['error'] as Json)['message']).replace('no-such-call', callId), 'the same answer as for an unknown id');
      assert.equal((await getJson(`/v1/calls/${callId}`, tokens['retention'])).status, 404);
      assert.equal((await getJson(`/v1/calls/${dialect}-leaving`, tokens['retention'])).status, 200);
      assert.equal((await getJson(`/v1/calls/${callId}`, tokens['pbx'])).status, 403);
      assert.equal((await request(`/v1/calls/${callId}`, undefined)).status, 401);
    });

    test('contact-reason report: figures equal those computed from the records, overall and per filter, day and hour, JSON and CSV', async () => {
      const iso = (ms: number): string => new Date(ms).toISOString();
      const period = `from=${iso(MONTH.from)}&to=${iso(MONTH.to)}`;
      const cases: { query: string; token: string | undefined; expect: Parameters<typeof expected>[1] }[] = [
        { query: period, token: tokens['admin'], expect: { ...MONTH, bucket: 'day' } },
        { query: `${period}&queue=delivery`, token: tokens['admin'], expect: { ...MONTH, bucket: 'day', queues: ['delivery'] } },
        { query: `${period}&language=nl-NL&bucket=day`, token: tokens['admin'], expect: { ...MONTH, bucket: 'day', language: 'nl-NL' } },
        { query: `${period}&agent=delivery-agent-07`, token: tokens['admin'], expect: { ...MONTH, bucket: 'day', agent: 'delivery-agent-07' } },
        { query: `from=${iso(MONTH.from + 9 * DAY)}&to=${iso(MONTH.from + 11 * DAY)}&bucket=hour`, token: tokens['admin'], expect: { from: MONTH.from + 9 * DAY, to: MONTH.from + 11 * DAY, bucket: 'hour' } },
        { query: `from=${iso(MONTH.from + 3 * DAY + 5_400_000)}&to=${iso(MONTH.from + 17 * DAY)}`, token: tokens['admin'], expect: { from: MONTH.from + 3 * DAY + 5_400_000, to: MONTH.from + 17 * DAY, bucket: 'day' } },
        // Scoped: a supervisor counts their queues only, an agent their own calls.
        { query: period, token: tokens['retention'], expect: { ...MONTH, bucket: 'day', queues: ['retention', 'billing'] } },
        { query: `${period}&queue=billing`, token: tokens['retention'], expect: { ...MONTH, bucket: 'day', queues: ['billing'] } },
        { query: period, token: await hsToken({ role: 'agent', agentId: 'retention-agent-03' }), expect: { ...MONTH, bucket: 'day', agent: 'retention-agent-03' } },
      ];
      for (const c of cases) {
        const { status, body } = await getJson(`/v1/insights/contact-reasons?${c.query}`, c.token);
        assert.equal(status, 200, `${c.query}: ${JSON.stringify(body)}`);
        const report = body as unknown as ContactReasonReport;
        const want = expected(synthetic, c.expect);
        assert.ok(want.calls > 0, `the case ${c.query} counts some calls`);
        assert.deepEqual(figures(report), want, c.query);
        assert.equal(report.from, iso(c.expect.from));
        assert.equal(report.bucket, c.expect.bucket);
      }
      // The filters are said back; the shares are 0..1 and the reasons sorted.
      const scoped = (await getJson(`/v1/insights/contact-reasons?${period}`, tokens['retention'])).body as unknown as ContactReasonReport;
      assert.deepEqual(scoped.filters, { queue: null, queues: ['retention', 'billing'], language: null, agent: null });
      assert.ok(scoped.reasons.every((r, i, all) => r.share >= 0 && r.share <= 1 && (i === 0 || (all[i - 1]?.calls ?? 0) >= r.calls)));

      // CSV: the same figures, by Accept header or format=csv.
      const json = (await getJson(`/v1/insights/contact-reasons?${period}`)).body as unknown as ContactReasonReport;
      const csv = await request(`/v1/insights/contact-reasons?${period}`, tokens['admin'], { headers: { accept: 'text/csv' } });
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const rows = (await csv.text()).trim().split('\r\n').map((l) => l.split(','));
      assert.deepEqual(rows[0], ['reason', 'calls', 'share', 'avoidable', 'channel', 'churn_risk', 'escalation_rate', 'repeat_contact_share']);
      assert.deepEqual(rows[1], ['all', String(json.calls), '1', String(json.avoidableShare), '', '', String(json.escalationRate), String(json.repeatContactShare)]);
      assert.deepEqual(rows.slice(2), json.reasons.map((r) => [r.reason, String(r.calls), String(r.share), String(r.avoidable), r.channel ?? '', String(r.churnRisk), String(r.escalationRate), String(r.repeatContactShare)]));
      const trend = (await (await request(`/v1/insights/contact-reasons?${period}&format=csv&table=trend`, tokens['admin'])).text()).trim().split('\r\n').map((l) => l.split(','));
      assert.deepEqual(trend[0], ['bucket', 'calls', ...json.reasons.map((r) => r.reason)]);
      assert.deepEqual(trend.slice(1), json.trend.map((t) => [t.bucket, String(t.calls), ...json.reasons.map((r) => String(t.byReason[r.reason] ?? 0))]));
    });

    test('contact-reason report: out of scope 403, bad parameters 400 naming them, no token 401', async () => {
      const refused = async (query: string, token: string | undefined, status: number, pattern: RegExp): Promise<void> => {
        const { status: got, body } = await getJson(`/v1/insights/contact-reasons?${query}`, token);
        assert.equal(got, status, `${query}: ${JSON.stringify(body)}`);
        assert.match(String((body['error'] as Json)['message']), pattern, query);
      };
      await refused('queue=orders', tokens['retention'], 403, /queue orders is not one this token supervises/);
      await refused('agent=agent-2', tokens['agent1'], 403, /own calls only/);
      await refused('', tokens['pbx'], 403, /not pbx/);
      await refused('from=yesterday', tokens['admin'], 400, /^from: must be an ISO 8601 date/);
      await refused('from=2026-03-10&to=2026-03-01', tokens['admin'], 400, /^from: must be before to/);
      await refused('bucket=week', tokens['admin'], 400, /^bucket: must be day or hour/);
      await refused('from=2025-01-01&to=2026-01-01&bucket=hour', tokens['admin'], 400, /^bucket: hour buckets over this period would be more than 2000/);
      await refused('language=fr-FR', tokens['admin'], 400, /^language: must be one of en-US, nl-NL/);
      await refused('format=xml', tokens['admin'], 400, /^format: must be json or csv/);
      assert.equal((await request('/v1/insights/contact-reasons', undefined)).status, 401);
      assert.equal((await request('/v1/insights/contact-reasons', tokens['admin'], { method: 'POST' })).status, 405);
    });

    test('the report command prints the same figures from the configured database', async () => {
      const env = { ...process.env, DATABASE_URL: harness.settings.databaseUrl ?? '', DATABASE_FILE: harness.settings.databaseFile ?? 'off', LOG_LEVEL: 'silent' };
      const run = (args: readonly string[]) => promisify(execFile)(process.execPath, [CLI, 'report', ...args], { env, timeout: 30_000 });
      const args = ['--from', '2026-03-01', '--to', '2026-04-01', '--queue', 'delivery'];
      const printed = JSON.parse((await run([...args, '--format', 'json'])).stdout) as ContactReasonReport;
      assert.deepEqual(figures(printed), expected(synthetic, { ...MONTH, bucket: 'day', queues: ['delivery'] }));
      const text = (await run(args)).stdout;
      const top = printed.reasons[0];
      assert.ok(top !== undefined);
      assert.match(text, new RegExp(`calls ${printed.calls} `));
      assert.match(text, new RegExp(`${top.reason}\\s+${top.calls}\\s`));
      const csv = (await run([...args, '--format', 'csv'])).stdout.trim().split('\r\n');
      assert.equal(csv.length, 2 + printed.reasons.length);
      await assert.rejects(run(['--from', 'soon']), (err: { code?: number; stderr?: string }) => err.code === 2 && /from: must be an ISO 8601 date/.test(err.stderr ?? ''));
    });

    test('DELETE /v1/calls/{id}: admin only; the transcript and free text go, the figures stay; unknown 404', async () => {
      const callId = `${dialect}-wismo`;
      assert.equal((await request(`/v1/calls/${callId}`, tokens['orders'], { method: 'DELETE' })).status, 403);
      assert.equal((await request(`/v1/calls/${callId}`, tokens['agent1'], { method: 'DELETE' })).status, 403);
      const res = await request(`/v1/calls/${callId}`, tokens['admin'], { method: 'DELETE' });
      assert.equal(res.status, 204);
      const after = await recordOf(callId);
      assert.equal(after['transcript'], null);
      assert.ok((after['intents'] as { text: unknown }[]).every((i) => i.text === null));
      assert.ok(((after['escalation'] as Json)['reasons'] as { kind: string; detail: string }[]).every((r) => r.detail === r.kind));
      assert.match(String(after['erasedAt']), /^\d{4}-/);
      assert.equal(after['primaryReason'], 'order_status', 'the record still counts');
      assert.equal((await request('/v1/calls/no-such-call', tokens['admin'], { method: 'DELETE' })).status, 404);
      await gw.control.startCall({ call_id: `${dialect}-running`, agent_id: 'a', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
      const running = await request(`/v1/calls/${dialect}-running`, tokens['admin'], { method: 'DELETE' });
      assert.equal(running.status, 400);
      assert.equal(((await running.json()) as { error: Json }).error['code'], 'SGW_CALL_ACTIVE');
      await gw.control.endCall(`${dialect}-running`);
    });

    test('/readyz carries the call-store check', async () => {
      const { status, body } = await getJson('/readyz', undefined);
      assert.equal(status, 200);
      const check = (body['checks'] as Record<string, Json>)['call-store'];
      assert.deepEqual([check?.['ok'], check?.['database'], check?.['state']], [true, dialect, 'ok']);
    });

    if (dialect === 'postgres') {
      test('the database stopped mid-run: calls ending during the outage lose no record; the gateway stays ready and shows the outage', async () => {
        const server = harness.server;
        assert.ok(server);
        await server.stop();
        const ids = [0, 1, 2].map((i) => `outage-${i}`);
        for (const callId of ids) await pushCall(callId, 'agent-1', 'orders', 'en-US', [['customer', 'where is my order']]);
        const deadline = Date.now() + 10_000;
        while ((await metricValue(gw.metrics, 'sgw_call_store_records_total', { outcome: 'failed' })) === 0) {
          if (Date.now() > deadline) assert.fail('no failed write during the outage');
          await sleep(100);
        }
        await sleep(5100); // past the readiness check's cache
        const ready = await getJson('/readyz', undefined);
        assert.equal(ready.status, 200, 'the live service goes on without the database');
        const check = (ready.body['checks'] as Record<string, Json>)['call-store'];
        assert.equal(check?.['state'], 'unreachable');
        assert.ok(Number(check?.['queued']) >= ids.length);
        assert.equal((await getJson(`/v1/calls/${ids[0] ?? ''}`)).status, 503, 'reads say the database is away');
        await server.start();
        for (const callId of ids) assert.equal((await recordOf(callId, 30_000))['primaryReason'], 'order_status');
        assert.equal(await metricValue(gw.metrics, 'sgw_call_store_queue_depth'), 0);
      });
    }
  });

  describe(`insights on ${dialect}: transcript retention off`, () => {
    test('no transcript is kept, the rest of the record is', async () => {
      const harness = await storeHarness(dialect);
      const gw = await startTestGateway({ rtpPortMin: 49210, rtpPortMax: 49219, asr: 'none', callRecordsJsonl: false, ...harness.settings });
      try {
        await gw.control.startCall({ call_id: 'no-keep', agent_id: 'a', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }] });
        await new Promise<void>((resolve, reject) => gw.control.raw.PushTranscript({ call_id: 'no-keep', role: 'LEG_ROLE_CUSTOMER', text: 'where is my order', final: true, utterance_id: 0, start_ms: 0, end_ms: 1500 }, (err) => (err ? reject(err) : resolve())));
        await gw.control.endCall('no-keep');
        const deadline = Date.now() + 10_000;
        let body: Json | undefined;
        while (body === undefined) {
          const res = await fetch(`http://127.0.0.1:${gw.addresses.http.port}/v1/calls/no-keep`);
          if (res.status === 200) body = (await res.json()) as Json;
          else if (Date.now() > deadline) assert.fail(`no record: ${res.status}`);
          else await sleep(100);
        }
        assert.equal(body['primaryReason'], 'order_status');
        assert.equal(body['transcript'], null);
        assert.equal(Number((await harness.sql('SELECT COUNT(*) AS n FROM transcripts'))[0]?.['n']), 0);
      } finally {
        await gw.close();
        await harness.destroy();
      }
    });
  });
}
