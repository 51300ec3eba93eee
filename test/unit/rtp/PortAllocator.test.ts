import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { GatewayError } from '../../../src/errors.js';
import { PortAllocator, type PortLease } from '../../../src/ingest/rtp/PortAllocator.js';

// This file owns ports 41000-41099 and 47000-47399.
const HOST = '127.0.0.1';
const leases: PortLease[] = [];
const blockers: dgram.Socket[] = [];

after(async () => {
  await Promise.all(leases.map((l) => l.release()));
  for (const s of blockers) s.close();
});

async function take(allocator: PortAllocator): Promise<PortLease> {
  const lease = await allocator.allocate();
  leases.push(lease);
  return lease;
}

function block(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(port, HOST, () => {
      blockers.push(s);
      resolve(s);
    });
  });
}

function isExhausted(err: unknown): boolean {
  return err instanceof GatewayError && err.code === 'SGW_PORTS_EXHAUSTED';
}

void describe('PortAllocator', () => {
  void it('hands out even RTP ports with RTCP on port + 1, both bound', async () => {
    const allocator = new PortAllocator({ min: 41001, max: 41009, bindAddress: HOST });
    assert.equal(allocator.capacity, 4);
    const a = await take(allocator);
    const b = await take(allocator);
    for (const lease of [a, b]) {
      assert.equal(lease.rtpPort % 2, 0);
      assert.equal(lease.rtcpPort, lease.rtpPort + 1);
      assert.deepEqual(lease.rtpSocket.address(), { address: HOST, family: 'IPv4', port: lease.rtpPort });
      assert.equal(lease.rtcpSocket.address().port, lease.rtcpPort);
    }
    assert.notEqual(a.rtpPort, b.rtpPort);
    assert.equal(allocator.inUse, 2);
    const c = await take(allocator);
    const d = await take(allocator);
    assert.deepEqual(
      [a, b, c, d].map((l) => l.rtpPort).sort(),
      [41002, 41004, 41006, 41008],
      'an odd min starts at the next even port; the last pair fits RTCP in the range',
    );
    await Promise.all([a.release(), b.release(), c.release(), d.release()]);
    assert.equal(allocator.inUse, 0);
  });

  void it('chooses pairs at random, not sequentially, all distinct and in range', async () => {
    const allocator = new PortAllocator({ min: 47000, max: 47399, bindAddress: HOST });
    assert.equal(allocator.capacity, 200);
    const all: PortLease[] = [];
    for (let i = 0; i < 20; i++) all.push(await take(allocator));
    const ports = all.map((l) => l.rtpPort);
    assert.equal(new Set(ports).size, 20, 'never a port in use');
    for (const lease of all) {
      assert.ok(lease.rtpPort >= 47000 && lease.rtcpPort <= 47399, `${lease.rtpPort} in range`);
      assert.equal(lease.rtpPort % 2, 0);
      assert.equal(lease.rtcpPort, lease.rtpPort + 1);
    }
    // Sequential allocation makes every step +2; at random from 200 pairs a step of +2 has a
    // chance of about 1 in 200, so five or more in 19 steps means the choice is not random.
    const sequentialSteps = ports.slice(1).filter((port, i) => port === (ports[i] ?? 0) + 2).length;
    assert.ok(sequentialSteps < 5, `allocation order ${ports.join(', ')}`);
    const sorted = [...ports].sort((x, y) => x - y);
    assert.ok((sorted.at(-1) ?? 0) - (sorted[0] ?? 0) > 2 * 20, `spread over the range: ${sorted.join(', ')}`);
    await Promise.all(all.map((l) => l.release()));
    assert.equal(allocator.inUse, 0);
  });

  void it('fails with SGW_PORTS_EXHAUSTED and a clear message when the range is used up', async () => {
    const allocator = new PortAllocator({ min: 41010, max: 41013, bindAddress: HOST });
    await take(allocator);
    await take(allocator);
    await assert.rejects(allocator.allocate(), (err: unknown) => {
      assert.ok(isExhausted(err));
      assert.match((err as Error).message, /41010-41013/);
      assert.match((err as Error).message, /2 pairs, 2 in use/);
      return true;
    });
  });

  void it('reuses a released pair', async () => {
    const allocator = new PortAllocator({ min: 41020, max: 41023, bindAddress: HOST });
    const a = await allocator.allocate();
    const b = await take(allocator);
    await assert.rejects(allocator.allocate(), isExhausted);
    await allocator.release(a);
    await allocator.release(a); // idempotent
    const c = await take(allocator);
    assert.equal(c.rtpPort, a.rtpPort);
    assert.notEqual(c.rtpPort, b.rtpPort);
  });

  void it('passes over a just-released pair while others are free, and takes it when none is', async () => {
    let now = 1_000_000;
    const allocator = new PortAllocator({ min: 41030, max: 41033, bindAddress: HOST, now: () => now });
    for (let round = 0; round < 10; round++) {
      const a = await allocator.allocate();
      await a.release();
      const b = await allocator.allocate();
      assert.notEqual(b.rtpPort, a.rtpPort, 'the other pair, not the one just released');
      await b.release();
      now += 10_000; // both out of quarantine again
    }
    const a = await allocator.allocate();
    await a.release();
    const b = await take(allocator);
    // Only the quarantined pair is left: it is handed out rather than failing.
    const c = await take(allocator);
    assert.equal(c.rtpPort, a.rtpPort);
    assert.notEqual(b.rtpPort, a.rtpPort);
  });

  void it('skips a pair whose RTP or RTCP port another process holds', async () => {
    await block(41040); // RTP of the first pair
    await block(41043); // RTCP of the second pair
    const allocator = new PortAllocator({ min: 41040, max: 41047, bindAddress: HOST });
    const a = await take(allocator);
    const b = await take(allocator);
    assert.deepEqual([a.rtpPort, b.rtpPort].sort(), [41044, 41046]);
    await assert.rejects(allocator.allocate(), (err: unknown) => {
      assert.ok(isExhausted(err));
      assert.match((err as Error).message, /2 held by other processes/);
      return true;
    });
  });

  void it('gives concurrent allocations distinct pairs', async () => {
    const allocator = new PortAllocator({ min: 41050, max: 41069, bindAddress: HOST });
    const all = await Promise.all(Array.from({ length: 10 }, () => take(allocator)));
    assert.equal(new Set(all.map((l) => l.rtpPort)).size, 10);
    await assert.rejects(allocator.allocate(), isExhausted);
  });

  void it('rejects a range without a pair, or an unusable bind address, as SGW_CONFIG', async () => {
    const isConfig = (err: unknown) => err instanceof GatewayError && err.code === 'SGW_CONFIG';
    assert.throws(() => new PortAllocator({ min: 41071, max: 41072, bindAddress: HOST }), isConfig);
    assert.throws(() => new PortAllocator({ min: 41080, max: 41070, bindAddress: HOST }), isConfig);
    assert.throws(() => new PortAllocator({ min: 0, max: 70000, bindAddress: HOST }), isConfig);
    const allocator = new PortAllocator({ min: 41090, max: 41093, bindAddress: '192.0.2.1' });
    await assert.rejects(allocator.allocate(), isConfig);
    assert.equal(allocator.inUse, 0);
  });
});
