/**
 * The load test tool itself, run small (a few calls, seconds) so it cannot
 * rot: a gateway child process, real-time RTP and Twilio Media Streams,
 * event clients, and the JSON, summary and plot it writes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runLoadTest, type LoadTestOptions, type LoadTestReport } from '../../loadtest/loadtest.js';

let out: string;

before(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'sgw-loadtest-'));
});

after(async () => {
  await rm(out, { recursive: true, force: true });
});

const base = (overrides: Partial<LoadTestOptions>): LoadTestOptions => ({
  scenario: 'ingest',
  calls: [2],
  transport: 'rtp',
  codec: 'pcmu',
  clients: 2,
  rampS: 1,
  durationS: 1,
  // The first customer turn of every fixture ends by 7 s.
  callS: 8,
  cpus: undefined,
  asrWorkers: 1,
  admission: false,
  rtpPortMin: 44500,
  rtpPortMax: 44599,
  outDir: '',
  maxMinutes: 3,
  log: () => undefined,
  ...overrides,
});

describe('load test smoke', () => {
  test('ingest only over RTP: every packet arrives, every pushed intent reaches every client', async () => {
    const { report, files } = await runLoadTest(base({ outDir: path.join(out, 'rtp') }));
    const [step] = report.steps;
    assert.ok(step);
    assert.equal(step.callErrors, 0, step.errorSamples.join('; '));
    assert.equal(step.callsPlayed, 2);
    assert.ok(step.rtp.sent >= 2 * 2 * 300, `8 s × 2 legs × 2 calls of 20 ms packets, sent ${step.rtp.sent}`);
    assert.equal(step.rtp.received, step.rtp.sent, 'the gateway counted every packet sent');
    assert.equal(step.rtp.lossPercent, 0);
    assert.equal(step.intents.expected, 2, 'one intent phrase per call within 8 s');
    assert.equal(step.intents.detected, 2);
    assert.equal(step.intents.latencyMs?.count, 4, 'two intents delivered to each of two clients');
    assert.ok((step.intents.latencyMs?.p50 ?? -1) >= 0);
    assert.equal(new Set(step.events.perClient).size, 1, 'both clients received the same events');
    assert.ok(step.timeline.length >= 2 && step.timeline.every((t) => t.rssMb > 0), 'CPU and RSS sampled over time');
    assert.equal(step.gatewayExitCode, 0, 'the gateway shut down cleanly');

    const written = JSON.parse(await readFile(files.json, 'utf8')) as LoadTestReport;
    assert.equal(written.steps.length, 1);
    assert.match(await readFile(files.summary, 'utf8'), /\| 2 \| 4 \| 2 \| 2\/2 \|/);
    assert.match(await readFile(files.plot, 'utf8'), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  test('ingest only over Twilio Media Streams: every media message arrives', async () => {
    const { report } = await runLoadTest(base({ transport: 'twilio', calls: [1], rtpPortMin: 44600, rtpPortMax: 44609, outDir: path.join(out, 'twilio') }));
    const [step] = report.steps;
    assert.ok(step);
    assert.equal(step.callErrors, 0, step.errorSamples.join('; '));
    assert.ok(step.rtp.sent > 0);
    assert.equal(step.rtp.received, step.rtp.sent, 'every media message was counted by the gateway');
    assert.equal(step.intents.detected, 1);
  });

  test('pocketsphinx transcription over RTP: audio recognised, finals delivered, nothing dropped', async () => {
    const { report } = await runLoadTest(base({ scenario: 'transcribe+spot', codec: 'l16', calls: [1], rtpPortMin: 44610, rtpPortMax: 44629, outDir: path.join(out, 'asr') }));
    const [step] = report.steps;
    assert.ok(step);
    assert.equal(step.callErrors, 0, step.errorSamples.join('; '));
    assert.ok(step.asr.audioSeconds >= 12, `two legs of 8 s recognised, got ${step.asr.audioSeconds} s`);
    assert.equal(step.asr.droppedSeconds, 0);
    assert.ok((step.transcriptLagMs?.count ?? 0) >= 1, 'final transcripts reached the client');
    assert.ok(step.memory.peakMb > step.memory.idleMb, 'decoders show in the gateway RSS');
  });
});
