/**
 * The agent and supervisor pages in a real browser (playwright-core driving
 * Debian's chromium): a gateway with authentication on, one synthesized call
 * streamed as real-time RTP (agent-007, queue orders) and one transcripts-only
 * call of another agent in the same queue that escalates to a critical alert.
 * The agent page shows its call's transcript, intents and the prompt with the
 * order number; the supervisor wall (opened after the alert was raised) shows
 * both calls and the alert, acknowledges it, and opens a call's transcript;
 * the agent's token sees nothing of the other agent's call.
 *
 * Screenshots go to a temporary folder, and to docs/screenshots/ with
 * UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../src/config.js';
import { renderCall, type RenderedCall } from '../../src/demo/speech.js';
import { RtpSender } from '../../src/ingest/rtp/RtpSender.js';
import type { StoredAlert } from '../../src/push/AlertStore.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const RATE = 16000;
const CODEC = { name: 'L16', clockRate: RATE, payloadType: 96 } as const;
const AUDIO_CALL = 'pages-audio';
const OTHER_CALL = 'pages-other';

let gw: TestGateway;
let browser: Browser;
let base: string;
let shots: string;
let audio: RenderedCall;
const tokens: Record<'agent' | 'otherAgent' | 'supervisor', string> = { agent: '', otherAgent: '', supervisor: '' };

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run .ci/setup (it installs Debian's chromium)`);
  shots = await mkdtemp(path.join(tmpdir(), 'sgw-pages-'));
  const launching = chromium.launch({
    executablePath: CHROMIUM,
    // Playwright gives every launch a fresh temporary profile (user-data-dir); nothing is downloaded.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 20_000,
  });
  const rendering = renderCall(
    [
      { speaker: 'agent', text: 'Thank you for calling. How can I help you today?' },
      { speaker: 'customer', text: 'Hello. I would like to cancel my order. The order number is four five six seven.' },
      { speaker: 'agent', text: 'Of course. Let me check whether it has shipped.' },
    ],
    { rate: RATE, voices: { customer: 'slt', agent: 'rms' }, gainDb: -10 },
  );
  gw = await startTestGateway({ rtpPortMin: 43400, rtpPortMax: 43499, asrWorkers: 2, rtpTimeoutMs: 30_000, jwtSecret: TEST_SECRET });
  base = `http://127.0.0.1:${gw.addresses.http.port}`;
  tokens.agent = await hsToken({ role: 'agent', agentId: 'agent-007' });
  tokens.otherAgent = await hsToken({ role: 'agent', agentId: 'agent-042' });
  tokens.supervisor = await hsToken({ role: 'supervisor', subject: 'sam.supervisor', queues: ['orders'] });
  [browser, audio] = await Promise.all([launching, rendering]);
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await rm(shots, { recursive: true, force: true });
});

async function open(url: string, size = { width: 1280, height: 760 }): Promise<Page> {
  const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && !/WebSocket|401|403/.test(msg.text()) && problems.push(msg.text()));
  await page.goto(url);
  (page as Page & { problems?: string[] }).problems = problems;
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file });
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

describe('agent and supervisor pages', { timeout: 60_000 }, () => {
  test('agent sees its call, prompt and transcript; supervisor sees the alert, acknowledges it and opens a transcript; no agent sees another agent’s call', async () => {
    // The agent's screen is open before its call arrives.
    const agentPage = await open(`${base}/agent#token=${tokens.agent}`);
    await agentPage.locator('#status[data-status="live"]').waitFor();
    assert.equal(new URL(agentPage.url()).hash, '', 'the token leaves the address bar');

    // The real call: both legs as real-time RTP, as a PBX sends them.
    const reply = await gw.control.startCall({
      call_id: AUDIO_CALL,
      agent_id: 'agent-007',
      queue: 'orders',
      language: 'en-US',
      legs: (['LEG_ROLE_CUSTOMER', 'LEG_ROLE_AGENT'] as const).map((role) => ({ role, codec: 'CODEC_L16' as const, clock_rate: RATE, payload_type: CODEC.payloadType })),
    });
    const streaming = Promise.all(
      reply.legs.map((leg) =>
        RtpSender.sendPcm({
          codec: CODEC,
          destination: { address: leg.host, port: leg.rtp_port },
          rtcpPort: leg.rtcp_port,
          pcm: audio.legs[leg.role === 'LEG_ROLE_CUSTOMER' ? 'customer' : 'agent'],
          sampleRate: audio.sampleRate,
        }),
      ),
    );

    // Another agent's call in the same queue, pushed as transcripts: it escalates to a critical alert.
    await gw.control.startCall({ call_id: OTHER_CALL, agent_id: 'agent-042', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
    await push(OTHER_CALL, 'LEG_ROLE_AGENT', 1, 'good morning you are speaking with sam', 0);
    await push(OTHER_CALL, 'LEG_ROLE_CUSTOMER', 2, 'where is my order it has not arrived', 2500);
    await push(OTHER_CALL, 'LEG_ROLE_CUSTOMER', 3, 'this is ridiculous i will contact my lawyer', 6000);

    // The supervisor opens the wall after the alert was raised: it is there from GET /v1/alerts.
    const supervisorPage = await open(`${base}/supervisor#token=${tokens.supervisor}`, { width: 1280, height: 720 });
    const critical = supervisorPage.locator('.alert.critical').first();
    await critical.waitFor();
    assert.match((await critical.textContent()) ?? '', /critical/i);
    await supervisorPage.locator(`tr[data-call-id="${OTHER_CALL}"] .reason`, { hasText: 'Order status' }).waitFor();
    await supervisorPage.locator(`tr[data-call-id="${AUDIO_CALL}"]`).waitFor();
    assert.equal(await supervisorPage.locator(`tr[data-call-id="${OTHER_CALL}"] .level`).textContent(), 'critical');
    // An alert raised while the wall is open arrives live.
    const alertsBefore = await supervisorPage.locator('.alert').count();
    await push(OTHER_CALL, 'LEG_ROLE_CUSTOMER', 4, 'i am calling my lawyer right now', 9000);
    await supervisorPage.locator('.alert').nth(alertsBefore).waitFor();

    // The agent: transcript of both legs, the intent chip, the prompt with the order number and a copy button.
    await agentPage.locator('.line.customer .text', { hasText: /cancel/ }).waitFor({ timeout: 30_000 });
    await agentPage.locator('.line.agent .text').first().waitFor();
    await agentPage.locator('.chip.intent', { hasText: 'Cancel order' }).first().waitFor();
    const prompt = agentPage.locator('.prompt[data-intent="cancel_order"]');
    await prompt.locator('.entity-value', { hasText: '4567' }).waitFor({ timeout: 30_000 });
    assert.match((await prompt.locator('.prompt-text').textContent()) ?? '', /order 4567/);
    assert.equal(await prompt.locator('button.copy').count(), 1);
    assert.match((await agentPage.locator('#call-meta').textContent()) ?? '', new RegExp(AUDIO_CALL));

    // The supervisor opens the live call's transcript and acknowledges the critical alert, while the calls go on.
    await supervisorPage.locator(`tr[data-call-id="${AUDIO_CALL}"]`).click();
    await supervisorPage.locator('#panel-transcript .line.customer .text', { hasText: /cancel/ }).waitFor();
    // Contact reason so far: the customer's first contact-reason intent, the one the agent page shows.
    const reason = supervisorPage.locator(`tr[data-call-id="${AUDIO_CALL}"] .reason`);
    await reason.filter({ hasNotText: '…' }).waitFor();
    assert.equal(await reason.textContent(), 'Cancel order');
    const chips = await agentPage.locator('#intents .chip.intent').allTextContents();
    assert.deepEqual(chips, ['Cancel order'], 'no other intent was said on this call');
    const alertId = await critical.getAttribute('data-alert-id');
    assert.ok(alertId);
    await supervisorPage.locator(`.alert[data-alert-id="${alertId}"] button.ack`).click();
    await supervisorPage.locator(`.alert[data-alert-id="${alertId}"] .acked-by`, { hasText: 'sam.supervisor' }).waitFor();
    const unacked = (await (await fetch(`${base}/v1/alerts?unacked=1`, { headers: { authorization: `Bearer ${tokens.supervisor}` } })).json()) as { alerts: StoredAlert[] };
    assert.ok(!unacked.alerts.some((a) => a.alertId === alertId), 'acknowledged on the gateway');
    const all = (await (await fetch(`${base}/v1/alerts`, { headers: { authorization: `Bearer ${tokens.supervisor}` } })).json()) as { alerts: StoredAlert[] };
    assert.equal(all.alerts.find((a) => a.alertId === alertId)?.ackedBy, 'sam.supervisor');
    await screenshot(supervisorPage, 'supervisor');
    await screenshot(agentPage, 'agent');

    await streaming;
    await agentPage.locator('.line.agent .text', { hasText: /check/ }).waitFor({ timeout: 15_000 });

    // The agent's page shows nothing of agent-042's call, and its token cannot subscribe to it.
    const agentText = (await agentPage.locator('body').textContent()) ?? '';
    assert.ok(!agentText.includes(OTHER_CALL) && !/lawyer/.test(agentText), 'nothing of the other call on the agent page');
    // Runs in the page: the browser's own WebSocket (this file is compiled without DOM types).
    // Accepted like an unknown call id (no existence oracle); the replay, which comes before the first heartbeat, holds nothing of it.
    type BrowserSocket = { onmessage: (m: { data: string }) => void; onclose: (e: { code: number }) => void; close: () => void };
    const probe = await agentPage.evaluate(
      async ({ url }) =>
        new Promise<{ events: number; heartbeat: boolean }>((resolve) => {
          const ws = new (globalThis as unknown as { WebSocket: new (url: string) => BrowserSocket }).WebSocket(url);
          let events = 0;
          ws.onmessage = (m) => {
            const { type } = JSON.parse(m.data) as { type: string };
            if (type === 'heartbeat') {
              ws.close();
              resolve({ events, heartbeat: true });
            } else if (type !== 'resume.gap') {
              events += 1;
            }
          };
          ws.onclose = () => resolve({ events, heartbeat: false });
        }),
      { url: `ws://127.0.0.1:${gw.addresses.http.port}/v1/events?callId=${OTHER_CALL}&since=0&heartbeat=1&access_token=${tokens.agent}` },
    );
    assert.deepEqual(probe, { events: 0, heartbeat: true }, 'nothing of the other call, not even from the replay');
    const otherAgentPage = await open(`${base}/agent#token=${tokens.otherAgent}`);
    await otherAgentPage.locator('.line.customer .text', { hasText: 'lawyer' }).first().waitFor();
    assert.ok(!((await otherAgentPage.locator('body').textContent()) ?? '').includes(AUDIO_CALL), 'agent-042 sees only its own call');

    for (const page of [agentPage, supervisorPage, otherAgentPage]) assert.deepEqual((page as Page & { problems?: string[] }).problems, [], 'no script errors');
    await gw.control.endCall(OTHER_CALL);
    await gw.control.endCall(AUDIO_CALL).catch(() => undefined);
  });
});
