/**
 * The insights page in a real browser (playwright-core driving Debian's
 * chromium) on a real gateway with a real SQLite call-record store: six calls
 * pushed through the transcripts-only path with known reasons (orders,
 * billing and retention queues), and one older record written straight into
 * the database 20 days back. The page opened with a supervisor token of
 * orders and billing shows the right calls, top reasons, avoidable and
 * repeat-contact shares in its DOM (the figures also equal the API's);
 * changing the queue, language and period filters changes them (and the CSV
 * export follows them); an agent's
 * token sees only their own calls; a PBX token is refused. The screenshot is
 * taken on the demo's month of seeded records (admin, last 30 days).
 *
 * Screenshots go to a temporary folder, and to docs/screenshots/ with
 * UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../src/config.js';
import { demoPastCalls } from '../../src/demo/pastCalls.js';
import type { CallRecordStore } from '../../src/insights/CallRecordStore.js';
import type { ContactReasonReport } from '../../src/insights/ContactReasonReport.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { storeHarness, type StoreHarness } from '../helpers/callStores.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const DAY = 86_400_000;

let gw: TestGateway;
let harness: StoreHarness;
let writer: CallRecordStore;
let browser: Browser;
let base: string;
let shots: string;
const tokens: Record<'supervisor' | 'agent' | 'admin' | 'pbx', string> = { supervisor: '', agent: '', admin: '', pbx: '' };

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run .ci/setup (it installs Debian's chromium)`);
  shots = await mkdtemp(path.join(tmpdir(), 'sgw-insights-page-'));
  const launching = chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 20_000,
  });
  harness = await storeHarness('sqlite');
  gw = await startTestGateway({ rtpPortMin: 43500, rtpPortMax: 43509, asr: 'none', jwtSecret: TEST_SECRET, rtpTimeoutMs: 30_000, callRecordsJsonl: false, ...harness.settings });
  base = `http://127.0.0.1:${gw.addresses.http.port}`;
  tokens.supervisor = await hsToken({ role: 'supervisor', subject: 'olivia.ops', queues: ['orders', 'billing'] });
  tokens.agent = await hsToken({ role: 'agent', agentId: 'agent-2' });
  tokens.admin = await hsToken({ role: 'admin' });
  tokens.pbx = await hsToken({ role: 'pbx', subject: 'pbx-1' });
  writer = harness.open();
  browser = await launching;
});

after(async () => {
  await browser?.close();
  await writer?.close();
  await gw?.close();
  await harness?.destroy();
  await rm(shots, { recursive: true, force: true });
});

async function open(url: string, size = { width: 1280, height: 1000 }): Promise<Page & { problems: string[] }> {
  const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1 });
  const page = (await context.newPage()) as Page & { problems: string[] };
  page.setDefaultTimeout(20_000);
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && !/40[13]/.test(msg.text()) && page.problems.push(msg.text()));
  await page.goto(url);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env['UPDATE_SCREENSHOTS'] === '1') {
    const dir = path.join(PACKAGE_ROOT, 'docs', 'screenshots');
    await mkdir(dir, { recursive: true });
    await copyFile(file, path.join(dir, `${name}.png`));
  }
}

const push = (callId: string, role: 'LEG_ROLE_CUSTOMER' | 'LEG_ROLE_AGENT', utteranceId: number, text: string, startMs: number) =>
  new Promise<void>((resolve, reject) =>
    gw.control.raw.PushTranscript({ call_id: callId, role, text, final: true, utterance_id: utteranceId, start_ms: startMs, end_ms: startMs + 2000 }, (err) => (err ? reject(err) : resolve())),
  );

async function pushCall(callId: string, agentId: string, queue: string, language: 'en-US' | 'nl-NL', customer: readonly string[]): Promise<void> {
  await gw.control.startCall({ call_id: callId, agent_id: agentId, queue, language, transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
  await push(callId, 'LEG_ROLE_AGENT', 0, language === 'en-US' ? 'thank you for calling how can i help' : 'goedemorgen waarmee kan ik u helpen', 0);
  for (const [i, text] of customer.entries()) await push(callId, 'LEG_ROLE_CUSTOMER', i + 1, text, 3000 + i * 3000);
  await gw.control.endCall(callId);
}

async function report(query: string, token: string): Promise<ContactReasonReport> {
  const res = await fetch(`${base}/v1/insights/contact-reasons?${query}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as ContactReasonReport;
}

/** The page's reasons table: reason → its row's cells. */
async function table(page: Page): Promise<Record<string, { calls: string; share: string; channel: string; repeat: string; escalated: string }>> {
  const rows: Record<string, { calls: string; share: string; channel: string; repeat: string; escalated: string }> = {};
  for (const row of await page.locator('#reasons tr').all()) {
    const cell = async (cls: string): Promise<string> => ((await row.locator(`.${cls}`).textContent()) ?? '').trim();
    rows[(await row.getAttribute('data-reason')) ?? ''] = { calls: await cell('calls-count'), share: await cell('share'), channel: await cell('channel'), repeat: await cell('repeat'), escalated: await cell('escalated') };
  }
  return rows;
}

const kpis = async (page: Page) => ({
  calls: await page.locator('#kpi-calls').textContent(),
  avoidable: await page.locator('#kpi-avoidable').textContent(),
  repeat: await page.locator('#kpi-repeat').textContent(),
});

describe('insights page', { timeout: 90_000 }, () => {
  test('a supervisor sees the top reasons and shares of their queues; filters change them; an agent sees their own calls; a PBX token is refused', async () => {
    await pushCall('ins-wismo-repeat', 'agent-1', 'orders', 'en-US', ['where is my order it has not arrived and this is the third time i am calling']);
    await pushCall('ins-wismo-angry', 'agent-1', 'orders', 'en-US', ['where is my order it has not arrived', 'this is ridiculous i will contact my lawyer']);
    await pushCall('ins-wismo', 'agent-2', 'orders', 'en-US', ['where is my order it has not arrived']);
    await pushCall('ins-cancel', 'agent-2', 'orders', 'en-US', ['i want to cancel my order number four five six seven']);
    await pushCall('ins-refund', 'agent-3', 'billing', 'en-US', ['where is my refund i sent the parcel back weeks ago']);
    await pushCall('ins-churn', 'agent-4', 'retention', 'nl-NL', ['ik wil mijn abonnement opzeggen']);
    // An older call, as another instance of a cluster would have written it: in the last 30 days, not the last 7.
    const [old] = demoPastCalls(Date.now(), { days: 1, perDay: 20 });
    assert.ok(old);
    const twentyDaysAgo = Date.now() - 20 * DAY;
    await writer.write([{ ...old, callId: 'ins-old-cancel', agentId: 'agent-9', queue: 'orders', language: 'en-US', startedAt: twentyDaysAgo, endedAt: twentyDaysAgo + old.durationMs, primaryReason: 'cancel_order', reasons: ['cancel_order'], avoidable: false, selfServiceChannel: null, churnRisk: false, repeatContact: false }]);
    // Records land asynchronously (batched write queue): wait until all seven are in.
    const all = `from=${new Date(Date.now() - 30 * DAY).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`;
    for (let deadline = Date.now() + 10_000; (await report(all, tokens.admin)).calls < 7; await sleep(100)) assert.ok(Date.now() < deadline, 'the records of the pushed calls land in the store');

    // The supervisor of orders and billing, last 7 days: the five calls of their queues, not retention's, not the old one.
    const page = await open(`${base}/insights#token=${tokens.supervisor}`);
    assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
    await page.locator('body[data-calls="5"]').waitFor();
    assert.deepEqual(await kpis(page), { calls: '5', avoidable: '80%', repeat: '20%' });
    const rows = await table(page);
    assert.deepEqual(Object.keys(rows), ['order_status', 'cancel_order', 'refund_request'], 'top reasons, most calls first');
    assert.deepEqual([rows['order_status']?.calls, rows['order_status']?.share, rows['order_status']?.channel, rows['order_status']?.repeat], ['3', '60%', 'Track-and-trace page', '33%']);
    assert.deepEqual([rows['cancel_order']?.calls, rows['cancel_order']?.channel], ['1', '–']);
    assert.deepEqual([rows['refund_request']?.calls, rows['refund_request']?.channel], ['1', 'Self-service returns portal']);
    // Escalations: what the API says per reason (the lawyer call's peak), and the wismo calls did escalate.
    const api = await report(`from=${new Date(Date.now() - 7 * DAY).toISOString()}&to=${new Date().toISOString()}`, tokens.supervisor);
    const apiStatus = api.reasons.find((r) => r.reason === 'order_status');
    assert.ok(apiStatus && apiStatus.escalationRate > 0, JSON.stringify(api.reasons));
    assert.equal(rows['order_status']?.escalated, `${Math.round(apiStatus.escalationRate * 100)}%`);
    assert.equal(await page.locator('#kpi-escalated').textContent(), `${Math.round(api.escalationRate * 100)}%`);
    // The charts are drawn: one canvas each, with a size.
    for (const id of ['chart-reasons', 'chart-escalations', 'chart-trend']) assert.ok(((await page.locator(`#${id}`).boundingBox())?.height ?? 0) > 100, `${id} is drawn`);

    // Queue filter: billing alone.
    await page.locator('#queue').selectOption('billing');
    await page.locator('body[data-calls="1"]').waitFor();
    assert.deepEqual(await kpis(page), { calls: '1', avoidable: '100%', repeat: '0%' });
    assert.deepEqual(Object.keys(await table(page)), ['refund_request']);
    // Language filter: no Dutch calls in these queues.
    await page.locator('#queue').selectOption('');
    await page.locator('#language').selectOption('nl-NL');
    await page.locator('body[data-calls="0"]').waitFor();
    assert.equal(await page.locator('#no-data').isVisible(), true);
    // Period filter: the last 30 days hold the older cancellation too.
    await page.locator('#language').selectOption('');
    await page.locator('#period').selectOption('30d');
    await page.locator('body[data-calls="6"]').waitFor();
    assert.deepEqual(await kpis(page), { calls: '6', avoidable: '67%', repeat: '17%' });
    assert.equal((await table(page))['cancel_order']?.calls, '2');
    // Custom period: the day 20 days ago alone.
    await page.locator('#period').selectOption('custom');
    const day = new Date(twentyDaysAgo).toISOString().slice(0, 10);
    await page.locator('#from').fill(day);
    await page.locator('#to').fill(day);
    await page.locator('#to').dispatchEvent('change');
    await page.locator('body[data-calls="1"]').waitFor();
    assert.deepEqual(Object.keys(await table(page)), ['cancel_order']);
    // Export CSV: the same period and filters, as a file.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
    assert.match(download.suggestedFilename(), /^contact-reasons-reasons-.*\.csv$/);
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    assert.deepEqual(csv.trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join(',')), ['all,1', 'cancel_order,1'], csv);
    assert.deepEqual(page.problems, [], 'no script errors');

    // The supervisor wall links here with the token handed over.
    const wall = await open(`${base}/supervisor#token=${tokens.supervisor}`);
    await wall.locator('#insights-link').click();
    await wall.locator('body[data-calls="5"]').waitFor();

    // An agent: their own two calls only, however the API is asked.
    const agentPage = await open(`${base}/insights#token=${tokens.agent}`);
    await agentPage.locator('body[data-calls="2"]').waitFor();
    assert.deepEqual(Object.keys(await table(agentPage)), ['cancel_order', 'order_status']);
    assert.equal(await agentPage.locator('#queue').isVisible(), false, 'no queue filter for an agent');

    // A PBX credential reads no insights.
    const pbxPage = await open(`${base}/insights#token=${tokens.pbx}`);
    await pbxPage.locator('#status[data-status="denied"]').waitFor();
    assert.equal(await pbxPage.locator('#kpi-calls').textContent(), '–');
    assert.equal(await pbxPage.locator('#reasons tr').count(), 0);
  });

  test('the chart library is served from node_modules, and nothing else of it', async () => {
    const lib = await fetch(`${base}/assets/vendor/chart.umd.min.js`);
    assert.equal(lib.status, 200);
    assert.match(lib.headers.get('content-type') ?? '', /javascript/);
    assert.match((await lib.text()).slice(0, 200), /Chart\.js v4/);
    for (const other of ['/assets/vendor/chart.js', '/node_modules/chart.js/dist/chart.umd.min.js', '/assets/vendor/../../package.json']) assert.equal((await fetch(`${base}${other}`)).status, 404, other);
  });

  test('screenshot: a month of the demo’s seeded calls, as an operations manager sees it', async () => {
    await writer.write(demoPastCalls(Date.now()));
    const seeded = await report(`from=${new Date(Date.now() - 30 * DAY).toISOString()}&to=${new Date().toISOString()}`, tokens.admin);
    assert.ok(seeded.calls > 1000, `the month is seeded: ${seeded.calls} calls`);
    const page = await open(`${base}/insights#token=${tokens.admin}`, { width: 1360, height: 1000 });
    await page.locator('#period').selectOption('30d');
    await page.locator(`body[data-calls="${seeded.calls}"]`).waitFor();
    assert.equal(await page.locator('#kpi-avoidable').textContent(), `${Math.round(seeded.avoidableShare * 100)}%`);
    await screenshot(page, 'insights');
    assert.deepEqual(page.problems, [], 'no script errors');
  });
});
