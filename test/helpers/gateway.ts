import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import { TokenIssuer } from '../../src/auth/TokenIssuer.js';
import { loadConfig, type GatewayConfig } from '../../src/config.js';
import { Gateway, type GatewayAddresses } from '../../src/Gateway.js';
import { CallControl } from '../../src/ingest/grpc/client.js';
import { createLogger } from '../../src/logger.js';
import { GatewayMetrics } from '../../src/metrics.js';
import type { GatewayEvent } from '../../src/events.js';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly addresses: GatewayAddresses;
  readonly control: CallControl;
  readonly metrics: GatewayMetrics;
  close(): Promise<void>;
}

/**
 * A real gateway on 127.0.0.1, HTTP and gRPC on port 0, RTP on the given range,
 * pocketsphinx unless the overrides say otherwise. `env` is empty by default so
 * that the developer's own environment does not change what tests run against.
 */
export async function startTestGateway(
  overrides: Partial<GatewayConfig> & { rtpPortMin: number; rtpPortMax: number },
  env: NodeJS.ProcessEnv = {},
): Promise<TestGateway> {
  const config = loadConfig([], env, {
    httpHost: '127.0.0.1',
    httpPort: 0,
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    rtpBindHost: '127.0.0.1',
    rtpAdvertisedHost: '127.0.0.1',
    asr: 'pocketsphinx',
    asrWorkers: 2,
    logLevel: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...overrides,
  });
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const { gateway, addresses } = await Gateway.start(config, createLogger(config.logLevel), metrics);
  // With authentication on, the control client acts as an admin; with TLS it trusts the test's own certificate.
  const adminToken =
    config.jwtSecret === undefined && config.jwtPrivateKeyFile === undefined
      ? undefined
      : await (await TokenIssuer.create({ secret: config.jwtSecret, privateKeyFile: config.jwtPrivateKeyFile, issuer: config.jwtIssuer, audience: config.jwtAudience })).issue({ role: 'admin', subject: 'test-admin', ttl: '1h' });
  const credentials = config.tlsCertFile === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(readFileSync(config.tlsCertFile));
  const control = new CallControl(`127.0.0.1:${addresses.grpcPort}`, credentials, adminToken === undefined ? {} : { token: adminToken });
  return {
    gateway,
    addresses,
    control,
    metrics,
    async close() {
      control.close();
      await gateway.close();
    },
  };
}

export interface ReceivedEvent {
  readonly event: GatewayEvent & { readonly seq: number };
  /** `Date.now()` when the client received it. */
  readonly receivedAt: number;
}

/** A /v1/events client that records every event with its arrival time. */
export class EventRecorder {
  readonly events: ReceivedEvent[] = [];
  private readonly waiters: { predicate: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const received = { event: JSON.parse(data.toString('utf8')) as ReceivedEvent['event'], receivedAt: Date.now() };
      this.events.push(received);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(received)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(received);
        }
      }
    });
  }

  static async connect(httpPort: number, query = ''): Promise<EventRecorder> {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/v1/events${query}`);
    // Listening before 'open': a replay (`since=`) can arrive in the same read as the upgrade response.
    const recorder = new EventRecorder(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return recorder;
  }

  /** Resolves with the first event (already received or future) matching `predicate`. */
  waitFor(predicate: (e: ReceivedEvent) => boolean, timeoutMs: number, what = 'event'): Promise<ReceivedEvent> {
    const seen = this.events.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  forCall(callId: string): ReceivedEvent['event'][] {
    return this.events.filter((e) => e.event.callId === callId).map((e) => e.event);
  }

  close(): void {
    this.ws.close();
  }
}

export { metricValue } from './metrics.js';
