import dgram from 'node:dgram';

/** Real UDP sockets for a test playing PBXs and forgers: bound on demand, all closed by `closeAll`. */
export function udpPeers(host = '127.0.0.1'): {
  readonly socket: (address?: string) => Promise<dgram.Socket>;
  readonly send: (from: dgram.Socket, data: Uint8Array, port: number) => Promise<void>;
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
    closeAll: () => {
      for (const s of open.splice(0)) s.close();
    },
  };
}
