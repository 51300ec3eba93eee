/**
 * The remote engine against servers that speak vosk-server's WebSocket
 * protocol as published (test/helpers/voskProtocolServer.ts, backed by
 * pocketsphinx in child processes): recognition, round robin, and a server
 * that dies mid-call, stalls or answers garbage while a stream is on it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { GatewayError } from '../../../src/errors.js';
import { GatewayMetrics } from '../../../src/metrics.js';
import type { RecognitionStream, SpeechGap } from '../../../src/asr/SpeechService.js';
import type { RecognitionResult } from '../../../src/asr/types.js';
import { VoskServerService, type VoskServerServiceOptions } from '../../../src/asr/engines/vosk-server/VoskServerService.js';
import { ServerSet } from '../../../src/asr/engines/vosk-server/ServerSet.js';
import { startVoskProtocolServer, type VoskProtocolServer, type VoskProtocolServerFaults } from '../../helpers/voskProtocolServer.js';
import { chunks, concat, silence, synthesize } from '../../helpers/speech.js';

const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });
const RATE = 16000;

let cancel: Int16Array;
let balance: Int16Array;
const servers: VoskProtocolServer[] = [];

async function server(faults: VoskProtocolServerFaults = {}, port = 0): Promise<VoskProtocolServer> {
  const s = await startVoskProtocolServer(faults, port);
  servers.push(s);
  return s;
}

function service(urls: string[], extra: Partial<VoskServerServiceOptions> = {}): { svc: VoskServerService; metrics: GatewayMetrics } {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  return { svc: new VoskServerService({ servers: { 'en-US': urls }, logger, metrics, responseTimeoutMs: 1500, healthIntervalMs: 300, ...extra }), metrics };
}

function collect(stream: RecognitionStream) {
  const results: RecognitionResult[] = [];
  const gaps: SpeechGap[] = [];
  stream.onGap((gap) => gaps.push(gap));
  const done = (async () => {
    for await (const r of stream) results.push(r);
  })();
  const finals = (): RecognitionResult[] => results.filter((r) => r.final && r.text !== '');
  return { results, gaps, finals, done };
}

/** 20 ms chunks, faster than real time, keeping under a second in flight. */
async function write(stream: RecognitionStream, pcm: Int16Array): Promise<void> {
  for (const chunk of chunks(pcm, RATE, 20)) {
    while (stream.bufferedAudioMs > 1000) await new Promise((resolve) => setTimeout(resolve, 5));
    stream.write(chunk);
  }
}

async function until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function counter(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}): Promise<number> {
  const values = (await metric.get()).values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return values.reduce((sum, v) => sum + v.value, 0);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('vosk-server protocol engine', () => {
  before(async () => {
    [cancel, balance] = await Promise.all([synthesize('I want to cancel my order', { rate: RATE }), synthesize('please check my account balance', { rate: RATE })]);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.kill()));
  });

  test('recognises streams with word times and flushes the last utterance at end()', async () => {
    const [a, b] = await Promise.all([server(), server()]);
    const { svc, metrics } = service([a.url, b.url]);
    try {
      assert.deepEqual(svc.supportedLanguages, ['en-US']);
      assert.deepEqual(svc.capabilities, { partials: true, spotting: false, alternatives: 0 });
      assert.deepEqual(svc.health(), { status: 'ok', instances: 2, ready: 2, restarts: 0 });
      const one = await svc.openStream({ language: 'en-US', inputSampleRate: RATE });
      const two = await svc.openStream({ language: 'en-US', inputSampleRate: RATE });
      assert.equal(svc.usage().openStreams, 2);
      const c1 = collect(one);
      const c2 = collect(two);
      // The second phrase has no trailing silence: only end() (eof) can bring its final.
      await Promise.all([write(one, concat(silence(300, RATE), cancel, silence(1500, RATE), balance)), write(two, concat(silence(300, RATE), balance, silence(1500, RATE)))]);
      await Promise.all([one.end(), two.end()]);
      await Promise.all([c1.done, c2.done]);
      assert.deepEqual(c1.finals().map((f) => f.utteranceId), [0, 1]);
      assert.match(c1.finals()[0]?.text ?? '', /cancel my order/);
      assert.match(c1.finals()[1]?.text ?? '', /balance/, 'the eof final');
      const first = c1.finals()[0];
      assert.ok(first && first.words.length >= 4 && first.startMs >= 200 && first.endMs < 3500, JSON.stringify(first));
      assert.ok(c1.results.some((r) => !r.final), 'partials before the final');
      assert.match(c2.finals()[0]?.text ?? '', /balance/);
      assert.equal(svc.usage().openStreams, 0);
      const audio = (2 * 300 + 1500 * 2) / 1000 + (cancel.length + 2 * balance.length) / RATE;
      assert.ok(Math.abs(svc.usage().audioSeconds - audio) < 0.05, `accounted ${svc.usage().audioSeconds} s of ${audio} s`);
      assert.equal(await counter(metrics.asrAudioSeconds), svc.usage().audioSeconds);
      assert.equal(await counter(metrics.asrRemoteFailovers), 0);
    } finally {
      await svc.close();
    }
  });

  for (const [fault, faults, reason] of [
    ['dies mid-call', { dieAfter: 200 }, 'connection-lost'],
    ['stalls mid-call', { stallAfter: 200 }, 'stalled'],
    ['answers garbage mid-call', { garbageAfter: 200 }, 'garbage'],
  ] as const) {
    test(`a server that ${fault} loses only the audio it held: a gap, then the stream goes on on another server`, async () => {
      const [bad, good] = await Promise.all([server(faults), server()]);
      const { svc, metrics } = service([bad.url, good.url], { healthIntervalMs: 60_000 });
      try {
        const stream = await svc.openStream({ language: 'en-US', inputSampleRate: RATE });
        const c = collect(stream);
        const firstPart = concat(silence(300, RATE), cancel, silence(1500, RATE));
        await write(stream, firstPart);
        // 200 messages of 20 ms: the fault comes in the silence after the second phrase starts at the earliest.
        await write(stream, concat(silence(1000, RATE), balance, silence(1500, RATE), balance, silence(1500, RATE)));
        await stream.end();
        await c.done;
        assert.equal(await counter(metrics.asrRemoteFailovers, { reason }), 1);
        assert.equal(c.gaps.length, 1, JSON.stringify(c.gaps));
        const gap = c.gaps[0];
        assert.ok(gap && gap.reason === 'asr-worker-restart' && gap.endMs >= gap.startMs, JSON.stringify(gap));
        const texts = c.finals().map((f) => f.text);
        assert.match(texts[0] ?? '', /cancel my order/, JSON.stringify(texts));
        const last = c.finals()[c.finals().length - 1];
        assert.ok(last && /balance/.test(last.text) && last.startMs > gap.endMs, `the stream went on after the gap: ${JSON.stringify(c.finals().map((f) => [f.text, f.startMs]))}`);
        const ids = c.finals().map((f) => f.utteranceId);
        assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'utterance ids keep increasing across the move');
        assert.equal(new Set(ids).size, ids.length);
        const health = svc.health();
        assert.equal(health.restarts, 1);
        assert.equal(health.status, 'degraded', 'the bad server is down until a health check passes');
        assert.equal(await counter(metrics.asrRemoteServersUp), 1);
      } finally {
        await svc.close();
      }
    });
  }

  test('no server reachable: openStream fails with SGW_ASR_UNAVAILABLE; a server that comes back is used again; ending while none is up', async () => {
    const port = await freePort();
    const { svc } = service([`ws://127.0.0.1:${port}`], { connectTimeoutMs: 500 });
    try {
      await assert.rejects(svc.openStream({ language: 'en-US', inputSampleRate: RATE }), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_ASR_UNAVAILABLE');
      assert.equal(svc.health().status, 'down');
      assert.equal(svc.usage().capacity, 0, 'admission control sees no capacity');
      await server({}, port);
      await until(() => svc.health().status === 'ok', 'the health check finds the server back');
      const stream = await svc.openStream({ language: 'en-US', inputSampleRate: RATE });
      const c = collect(stream);
      await write(stream, concat(silence(300, RATE), cancel, silence(1500, RATE)));
      // The only server goes away mid-call and stays away: the stream holds what it is written
      // for the next server, and end() does not wait for one; what it held is a gap.
      await servers[servers.length - 1]?.kill();
      await until(() => svc.health().status === 'down', 'the failover notices');
      stream.write(silence(500, RATE));
      await stream.end();
      await c.done;
      assert.match(c.finals()[0]?.text ?? '', /cancel my order/);
      const held = c.gaps.find((g) => g.endMs - g.startMs >= 490);
      assert.ok(held !== undefined, `the audio held while no server was up is a gap: ${JSON.stringify(c.gaps)}`);
    } finally {
      await svc.close();
    }
  });

  test('servers are chosen round robin among those up; a server marked down is skipped, and given when it is the only one left', () => {
    const set = new ServerSet({ urls: ['ws://a', 'ws://b', 'ws://c'], logger, healthIntervalMs: 3_600_000 });
    try {
      assert.deepEqual([set.pick(), set.pick(), set.pick(), set.pick()], ['ws://a', 'ws://b', 'ws://c', 'ws://a']);
      set.markDown('ws://c', 'test');
      assert.equal(set.upCount, 2);
      assert.deepEqual([set.pick(), set.pick(), set.pick()], ['ws://b', 'ws://a', 'ws://b']);
      assert.equal(set.pick('ws://a'), 'ws://b', 'a failed server is avoided when another is up');
      set.markDown('ws://b', 'test');
      assert.equal(set.pick('ws://a'), 'ws://a', 'the only server up is still given');
      set.markDown('ws://a', 'test');
      assert.equal(set.pick(), undefined);
      set.markUp('ws://c');
      assert.equal(set.pick(), 'ws://c');
    } finally {
      set.close();
    }
  });

  test('bad configuration and requests are refused with clear errors', async () => {
    assert.throws(() => service(['http://example.invalid']), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_INVALID_ARGUMENT' && err.message.includes('ws://'));
    assert.throws(() => service([]), (err: unknown) => err instanceof GatewayError && /no speech server/.test(err.message));
    const { svc } = service(['ws://127.0.0.1:9']);
    try {
      await assert.rejects(svc.openStream({ language: 'nl-NL', inputSampleRate: RATE }), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_LANGUAGE_UNSUPPORTED');
      await assert.rejects(svc.openStream({ language: 'en-US', inputSampleRate: RATE, mode: 'spot', spotPhrases: ['cancel'] }), (err: unknown) => err instanceof GatewayError && err.code === 'SGW_INVALID_ARGUMENT');
    } finally {
      await svc.close();
    }
  });
});
