/**
 * Resume across a real restart. An event's `eventId` names the gateway run
 * that published it, so a client that resumes with a cursor of the previous
 * process gets `resume.gap` (reason `other-run`) and then every event the new
 * process retains, instead of nothing at all. Within one run a cursor resumes
 * exactly. Two real gateway processes (`cli.js serve`, ASR=none, transcripts
 * pushed over gRPC), the first stopped with a real SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { parseCursor } from '../../src/push/EventCursor.js';
import { hsToken, TEST_SECRET } from '../helpers/auth.js';
import { EventRecorder, type ReceivedEvent } from '../helpers/gateway.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** A gateway in its own process, as an operator runs it. */
class GatewayProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly httpPort: number,
    readonly grpcPort: number,
    private readonly stderr: string[],
  ) {}

  static async start(scratch: string, run: string): Promise<GatewayProcess> {
    const env = {
      PATH: process.env['PATH'] ?? '',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      RTP_BIND: '127.0.0.1',
      RTP_PORT_MIN: '47700',
      RTP_PORT_MAX: '47709',
      ASR: 'none',
      JWT_SECRET: TEST_SECRET,
      CALL_RECORDS_FILE: path.join(scratch, `records-${run}.jsonl`),
      LOG_LEVEL: 'info',
      // The first run's call is left active for the SIGTERM to end: no drain.
      DRAIN_TIMEOUT_MS: '0',
    };
    const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    const lines = createInterface({ input: child.stdout ?? assert.fail('no stdout') });
    const listening = await new Promise<{ http: string; grpcPort: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start: ${stderr.join('')}`)), 20_000);
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${stderr.join('')}`)));
      lines.on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; http?: string; grpcPort?: number };
        if (entry.msg !== 'gateway listening' || entry.http === undefined || entry.grpcPort === undefined) return;
        clearTimeout(timer);
        resolve({ http: entry.http, grpcPort: entry.grpcPort });
      });
    });
    return new GatewayProcess(child, Number(listening.http.split(':').at(-1)), listening.grpcPort, stderr);
  }

  /** A real SIGTERM; resolves with the exit code once the process is gone. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit') as Promise<[number | null]>;
    this.child.kill('SIGTERM');
    const [code] = await exited;
    return code;
  }

  get errors(): string {
    return this.stderr.join('');
  }
}

let scratch: string;
let admin: string;
let pbx: string;
const running: GatewayProcess[] = [];

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'sgw-restart-'));
  admin = await hsToken({ role: 'admin', subject: 'restart-test' });
  pbx = await hsToken({ role: 'pbx', subject: 'pbx-restart' });
});

after(async () => {
  for (const gateway of running) await gateway.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** Starts a transcripts-only call, pushes `texts` as final customer utterances 1, 2, … and, with `end`, ends it. */
async function playCall(gateway: GatewayProcess, callId: string, texts: readonly string[], end: boolean): Promise<void> {
  const control = new CallControl(`127.0.0.1:${gateway.grpcPort}`, grpc.credentials.createInsecure(), { token: pbx });
  try {
    await control.startCall({ call_id: callId, agent_id: 'agent-1', queue: 'orders', language: 'en-US', transcripts_only: true, legs: [{ role: 'LEG_ROLE_CUSTOMER' }, { role: 'LEG_ROLE_AGENT' }] });
    for (const [i, text] of texts.entries()) {
      await new Promise<void>((resolve, reject) =>
        control.raw.PushTranscript({ call_id: callId, role: 'LEG_ROLE_CUSTOMER', text, final: true, utterance_id: i + 1, start_ms: i * 3000, end_ms: i * 3000 + 2000 }, (err) => (err ? reject(err) : resolve())),
      );
    }
    if (end) await control.endCall(callId);
  } finally {
    control.close();
  }
}

const ids = (events: readonly ReceivedEvent[]): string[] => events.map((e) => e.event.eventId);
const kind = (e: ReceivedEvent): string => e.event.type;
function epochOf(eventId: string): number {
  const parsed = parseCursor(eventId);
  return parsed.kind === 'cursor' ? parsed.cursor.epoch : assert.fail(`not an eventId: ${eventId}`);
}

describe('resume across a restart', { timeout: 90_000 }, () => {
  test('a cursor of the previous process gets resume.gap (other-run) and every event the new one retains; within a run, an exact resume', async () => {
    const first = await GatewayProcess.start(scratch, 'first');
    running.push(first);
    const before = await EventRecorder.connect(first.httpPort, `?access_token=${admin}`);
    // Left active: the SIGTERM ends it.
    await playCall(first, 'before-restart', ['hello i want to cancel my order'], false);
    await before.waitFor((e) => kind(e) === 'intent', 5000, 'the intent of the first run');
    const closed = once(before.ws, 'close') as Promise<[number]>;
    assert.equal(await first.stop(), 0, `the first gateway stops cleanly on SIGTERM: ${first.errors}`);
    const [closeCode] = await closed;
    assert.equal(closeCode, 1001, 'the event client is told the gateway is going away');
    // The last event the client processed: its cursor, which restarted ids used to make meaningless.
    const cursor = before.events.at(-1)?.event.eventId ?? assert.fail('no event before the restart');
    assert.ok(before.events.some((e) => kind(e) === 'call.ended'), 'the call ended by the shutdown reached the client');

    const second = await GatewayProcess.start(scratch, 'second');
    running.push(second);
    // A witness of everything the second run publishes, from its first event.
    const witness = await EventRecorder.connect(second.httpPort, `?access_token=${admin}`);
    await playCall(second, 'after-restart', ['where is my order it has not arrived', 'i want to cancel my order', 'thank you'], true);
    // The summary is the call's last event, and nothing else happens on this gateway.
    await witness.waitFor((e) => kind(e) === 'call.summary', 5000, 'the summary of the second run');
    const published = ids(witness.events);
    assert.ok(published.length >= 8, `the second run published its call's events (${published.length})`);
    assert.ok(published.every((id) => epochOf(id) === epochOf(published[0] ?? '') && epochOf(id) !== epochOf(cursor)), 'the second run has its own epoch');

    const resumed = await EventRecorder.connect(second.httpPort, `?since=${cursor}&access_token=${admin}`);
    await resumed.waitFor((e) => e.event.eventId === published.at(-1), 5000, 'the replay of the second run');
    const [gap, ...replayed] = resumed.events;
    assert.deepEqual(gap?.event, { type: 'resume.gap', reason: 'other-run', since: cursor, oldestEventId: published[0], latestEventId: published.at(-1) });
    assert.deepEqual(ids(replayed), published, 'every event of the new run, in order, none twice');
    console.log(`# after a restart, a client resuming with the old cursor ${cursor} gets resume.gap (other-run) + ${replayed.length} retained events (of ${published.length} the new run published)`);

    // Within the run, a cursor resumes exactly: no gap, the events after it and no other.
    const middle = published[3] ?? assert.fail('too few events');
    const exact = await EventRecorder.connect(second.httpPort, `?since=${middle}&access_token=${admin}`);
    await exact.waitFor((e) => e.event.eventId === published.at(-1), 5000, 'the exact replay');
    assert.deepEqual(ids(exact.events), published.slice(4));
    // A bare integer id, what the gateway handed out before cursors named their run, is another run too.
    const legacy = await EventRecorder.connect(second.httpPort, `?since=5&access_token=${admin}`);
    await legacy.waitFor((e) => e.event.eventId === published.at(-1), 5000, 'the replay for an integer cursor');
    assert.equal(legacy.events[0]?.event.type, 'resume.gap');
    assert.equal((legacy.events[0]?.event as unknown as { reason: string }).reason, 'other-run');
    for (const client of [witness, resumed, exact, legacy]) client.close();
    assert.equal(await second.stop(), 0, second.errors);
  });
});
