import { randomBytes } from 'node:crypto';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import { TokenIssuer } from '../auth/TokenIssuer.js';
import { GatewayError } from '../errors.js';
import type { CodecSpec } from '../audio/codecs/Codec.js';
import type { GatewayConfig } from '../config.js';
import { Gateway } from '../Gateway.js';
import { CallControl } from '../ingest/grpc/client.js';
import { RtpSender } from '../ingest/rtp/RtpSender.js';
import type { Logger } from '../logger.js';
import type { GatewayEvent } from '../events.js';
import { openCallRecordStore } from '../insights/openCallRecordStore.js';
import { DEMO_SEED_PREFIX, demoPastCalls } from './pastCalls.js';
import { renderCall, type Turn } from './speech.js';

interface DemoCall {
  readonly callId: string;
  readonly agentId: string;
  readonly queue: string;
  readonly codec: CodecSpec;
  readonly startAfterMs: number;
  readonly script: readonly Turn[];
}

/** Two overlapping calls as a contact centre hears them. */
const CALLS: readonly DemoCall[] = [
  {
    callId: `demo-${Date.now().toString(36)}-1`,
    agentId: 'agent-007',
    queue: 'orders',
    codec: { name: 'L16', clockRate: 16000, payloadType: 96 },
    startAfterMs: 0,
    script: [
      { speaker: 'agent', text: 'Thank you for calling. How can I help you today?' },
      { speaker: 'customer', text: 'Hello. I would like to cancel my order. The order number is four five six seven.' },
      { speaker: 'agent', text: 'Of course. Let me check whether it has shipped.' },
      { speaker: 'customer', text: 'Thank you.' },
      { speaker: 'agent', text: 'That order has been cancelled.' },
    ],
  },
  {
    callId: `demo-${Date.now().toString(36)}-2`,
    agentId: 'agent-042',
    queue: 'delivery',
    // Wideband too: pocketsphinx's only model is 16 kHz and does poorly on G.711 narrowband (see README).
    codec: { name: 'L16', clockRate: 16000, payloadType: 97 },
    startAfterMs: 3000,
    script: [
      { speaker: 'agent', text: 'Good morning, you are speaking with Sam.' },
      { speaker: 'customer', text: 'Where is my order? It has not arrived.' },
      { speaker: 'agent', text: 'Let me check the tracking for you.' },
      { speaker: 'customer', text: 'This is the third time I am calling. I want to speak to your manager.', gainDb: 9 },
      { speaker: 'agent', text: 'I understand. I will get my supervisor.' },
    ],
  },
];

const color = (code: number, text: string): string => (process.stdout.isTTY ? `\u001b[${code}m${text}\u001b[0m` : text);

function describe(event: GatewayEvent): string | undefined {
  const id = event.callId.slice(-1);
  switch (event.type) {
    case 'call.started':
      return color(36, `[call ${id}] started: agent ${event.agentId}, queue ${event.queue}, ${event.legs.map((l) => `${l.role} ${l.codec}/${l.clockRate} on :${l.rtpPort}`).join(', ')}`);
    case 'transcript':
      return event.final ? `[call ${id}] ${event.leg.padEnd(8)} ${(event.startMs / 1000).toFixed(1).padStart(5)}s  ${event.text}` : undefined;
    case 'intent':
      return color(33, `[call ${id}] INTENT ${event.intent} (${event.kind}, ${event.leg}, "${event.text}", ${event.partial ? 'from partial' : 'final'}, at ${(event.endMs / 1000).toFixed(1)}s)`);
    case 'prompt':
      return color(32, `[call ${id}] PROMPT for ${event.agentId}: ${event.text}`);
    case 'escalation':
      return color(31, `[call ${id}] ESCALATION ${event.previousLevel} -> ${event.level} (${event.reasons.map((r) => r.kind).join(', ')})`);
    case 'alert':
      return color(31, `[call ${id}] ALERT (${event.severity}) for supervisors of ${event.queue}: ${event.message}`);
    case 'alert.ack':
      return color(36, `[call ${id}] alert acknowledged by ${event.ackedBy}`);
    case 'sentiment':
      return undefined;
    case 'call.summary':
      return color(36, `[call ${id}] summary: contact reason ${event.summary.primaryContactReason}, escalation peak ${event.summary.escalation.peakLevel}, customer talk ${(event.summary.talk.customerRatio * 100).toFixed(0)}%`);
    case 'call.ended':
      return color(36, `[call ${id}] ended: ${event.reason}, ${(event.durationMs / 1000).toFixed(1)}s`);
  }
}

/** Seconds from an environment variable (0 when unset). */
function seconds(env: NodeJS.ProcessEnv, name: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 86_400) throw new GatewayError('SGW_CONFIG', `${name} must be seconds in [0, 86400], got '${raw}'`);
  return value;
}

/** Resolves after `s` seconds or at Ctrl-C / SIGTERM, whichever is first. */
function pause(s: number): Promise<void> {
  if (s <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = setTimeout(done, s * 1000);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/**
 * Demo data only: a month of made-up past calls of the demo's queues written
 * into the demo's SQLite store before the gateway starts, so the insights page
 * has something to show (call ids demo-seed-*, end reason demo-seed; a rerun
 * replaces them). Never into a PostgreSQL DATABASE_URL: a shared database is
 * no place for made-up calls. DEMO_SEED_DAYS=0 skips it.
 */
async function seedPastCalls(config: GatewayConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const days = env['DEMO_SEED_DAYS'] === undefined || env['DEMO_SEED_DAYS'] === '' ? 30 : Number(env['DEMO_SEED_DAYS']);
  if (!Number.isInteger(days) || days < 0 || days > 365) throw new GatewayError('SGW_CONFIG', `DEMO_SEED_DAYS must be whole days in [0, 365], got '${env['DEMO_SEED_DAYS'] ?? ''}'`);
  if (days === 0 || config.databaseFile === undefined) return;
  if (config.databaseUrl !== undefined) {
    console.log('Not seeding demo calls: DATABASE_URL is set (the insights page shows what is there).');
    return;
  }
  const store = openCallRecordStore({ databaseUrl: undefined, databaseFile: config.databaseFile }, logger);
  if (store === undefined) return;
  try {
    const records = demoPastCalls(Date.now(), { days });
    await store.write(records);
    console.log(`Seeded ${records.length} past calls of the last ${days} days into ${config.databaseFile} (demo data: call ids ${DEMO_SEED_PREFIX}*) for the insights page.`);
  } finally {
    await store.close();
  }
}

/**
 * The README's first command: starts the gateway on the default engine and
 * plays two synthesized calls into it exactly as a PBX would (gRPC StartCall,
 * then both legs as real-time RTP, RTCP BYE at the end), printing what a
 * client of /v1/events receives, and the agent, supervisor and insights
 * pages' URLs (with tokens) to watch the calls arrive. A month of demo past
 * calls is seeded first (seedPastCalls) so the insights page shows a month.
 *
 * Authentication is on: with no JWT key configured the demo makes a random
 * HS256 secret for this run and issues the tokens itself. `DEMO_WAIT_S` waits
 * before the first call (time to open the pages), `DEMO_HOLD_S` keeps the
 * gateway up after the calls; both default to 0, so the demo ends by itself.
 */
export async function runDemo(config: GatewayConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const waitS = seconds(env, 'DEMO_WAIT_S');
  const holdS = seconds(env, 'DEMO_HOLD_S');
  if (config.jwtSecret === undefined && config.jwtPublicKeyFile === undefined) config = { ...config, jwtSecret: randomBytes(32).toString('base64url') };
  if (config.jwtPublicKeyFile !== undefined && config.jwtPrivateKeyFile === undefined) {
    throw new GatewayError('SGW_CONFIG', 'the demo issues its own tokens: with JWT_PUBLIC_KEY_FILE set it needs JWT_PRIVATE_KEY_FILE too');
  }
  const issuer = await TokenIssuer.create({ secret: config.jwtSecret, privateKeyFile: config.jwtPrivateKeyFile, issuer: config.jwtIssuer, audience: config.jwtAudience });
  const adminToken = await issuer.issue({ role: 'admin', subject: 'demo', ttl: '12h' });
  const supervisorToken = await issuer.issue({ role: 'supervisor', subject: 'supervisor-1', queues: [...new Set(CALLS.map((c) => c.queue))], ttl: '12h' });
  const agentTokens = await Promise.all(CALLS.map(async (call) => [call.agentId, await issuer.issue({ role: 'agent', agentId: call.agentId, ttl: '12h' })] as const));

  console.log('Synthesizing two calls with flite ...');
  const rendered = await Promise.all(CALLS.map((call) => renderCall(call.script, { rate: call.codec.clockRate, voices: { customer: 'slt', agent: 'rms' }, gainDb: -10 })));

  // The demo's records go to their own file unless one is chosen: its made-up month stays out of the default store of `serve`.
  if (config.databaseUrl === undefined && env['DATABASE_FILE'] === undefined && config.databaseFile === path.resolve('var/call-records.db')) config = { ...config, databaseFile: path.resolve('var/demo-call-records.db') };
  await seedPastCalls(config, logger, env);
  const { gateway, addresses } = await Gateway.start(config, logger);
  const scheme = addresses.tls ? 'https' : 'http';
  const httpUrl = `${scheme}://127.0.0.1:${addresses.http.port}`;
  const wsUrl = `${addresses.tls ? 'wss' : 'ws'}://127.0.0.1:${addresses.http.port}`;
  console.log(`Gateway up: engine ${gateway.engine}; events ${wsUrl}/v1/events, metrics ${httpUrl}/metrics, gRPC 127.0.0.1:${addresses.grpcPort}`);
  console.log(color(1, `Supervisor wall: ${httpUrl}/supervisor#token=${supervisorToken}`));
  if (config.databaseUrl !== undefined || config.databaseFile !== undefined) console.log(color(1, `Insights: ${httpUrl}/insights#token=${supervisorToken}`));
  for (const [agentId, token] of agentTokens) console.log(color(1, `Agent ${agentId}: ${httpUrl}/agent#token=${token}`));
  if (waitS > 0) {
    console.log(`Waiting ${waitS} s before the first call (DEMO_WAIT_S) ...`);
    await pause(waitS);
  }

  const ws = new WebSocket(`${wsUrl}/v1/events?access_token=${encodeURIComponent(adminToken)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const ended = new Set<string>();
  const allEnded = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const event = JSON.parse(data.toString('utf8')) as GatewayEvent;
      const line = describe(event);
      if (line !== undefined) console.log(line);
      if (event.type === 'call.summary') {
        ended.add(event.callId);
        if (ended.size === CALLS.length) resolve();
      }
    });
  });

  const control = new CallControl(`127.0.0.1:${addresses.grpcPort}`, addresses.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), { token: adminToken });
  try {
    await Promise.all(
      CALLS.map(async (call, i) => {
        await new Promise((resolve) => setTimeout(resolve, call.startAfterMs));
        const reply = await control.startCall({
          call_id: call.callId,
          agent_id: call.agentId,
          queue: call.queue,
          language: 'en-US',
          legs: (['customer', 'agent'] as const).map((role) => ({
            role: role === 'customer' ? 'LEG_ROLE_CUSTOMER' : 'LEG_ROLE_AGENT',
            codec: `CODEC_${call.codec.name}` as const,
            clock_rate: call.codec.clockRate,
            payload_type: call.codec.payloadType,
          })),
        });
        const audio = rendered[i];
        if (audio === undefined) throw new Error('missing rendered call');
        await Promise.all(
          reply.legs.map((leg) =>
            RtpSender.sendPcm({
              codec: call.codec,
              destination: { address: leg.host, port: leg.rtp_port },
              rtcpPort: leg.rtcp_port,
              pcm: audio.legs[leg.role === 'LEG_ROLE_CUSTOMER' ? 'customer' : 'agent'],
              sampleRate: audio.sampleRate,
              bye: 'call completed',
            }),
          ),
        );
      }),
    );
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
    if ((await Promise.race([allEnded, timeout])) === 'timeout') console.log('Not every call ended within 10 s of its RTCP BYE.');
    const metrics = await gateway.metrics.registry.getSingleMetricAsString('sgw_asr_real_time_factor');
    const rtf = /sgw_asr_real_time_factor\{[^}]*\} ([0-9.e+-]+)/.exec(metrics)?.[1];
    console.log(`Done. ASR real-time factor ${rtf === undefined ? 'n/a' : Number(rtf).toFixed(3)} (processing s per audio s, per stream).`);
    if (holdS > 0) {
      console.log(`The pages stay up for ${holdS} s (DEMO_HOLD_S); Ctrl-C stops.`);
      await pause(holdS);
    }
  } finally {
    control.close();
    ws.close();
    await gateway.close();
  }
}
