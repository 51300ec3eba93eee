import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';

/** Real UDP sockets for a test playing PBXs and forgers: bound on demand, all closed by `closeAll`. */
export function udpPeers(host = '127.0.0.1'): {
  readonly socket: (address?: string) => Promise<dgram.Socket>;
  readonly send: (from: dgram.Socket, data: Uint8Array, port: number) => Promise<void>;
  /** Sends `count` datagrams made by `next` from `from`, one every 20 ms as a PBX sends its packets; resolves to `count`. */
  readonly pace: (from: dgram.Socket, port: number, count: number, next: () => Uint8Array) => Promise<number>;
  readonly closeAll: () => void;
} {
  const open: dgram.Socket[] = [];
  return {
    socket: async (address = host) => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, address, () => resolve());
      });
      open.push(s);
      return s;
    },
    send: (from, data, port) => new Promise((resolve, reject) => from.send(data, port, host, (err) => (err ? reject(err) : resolve()))),
    pace: async (from, port, count, next) => {
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        const wait = start + i * 20 - performance.now();
        if (wait > 0) await sleep(wait);
        await new Promise<void>((resolve, reject) => from.send(next(), port, host, (err) => (err ? reject(err) : resolve())));
      }
      return count;
    },
    closeAll: () => {
      for (const s of open.splice(0)) s.close();
    },
  };
}
