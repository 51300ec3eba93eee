/**
 * Hands out RTP/RTCP port pairs from a configured range and binds them.
 *
 * RTP gets an even port P and RTCP gets P + 1, as RFC 3550 §11 recommends.
 * The pair is chosen at random (crypto `randomInt`) among the free ones, as
 * media servers do: sequential ports let anyone who saw one call's port aim a
 * datagram at the next call's before its media starts. A pair released less
 * than {@link RELEASE_QUARANTINE_MS} ago is only taken when no other is free,
 * so stray packets of an ended call rarely land in a new one. A pair where
 * either bind fails with EADDRINUSE/EACCES (someone else holds the port) is
 * skipped; when no pair in the range can be bound, allocation fails with
 * `SGW_PORTS_EXHAUSTED`.
 *
 * @see
 * - [RFC 3550 section 11](https://datatracker.ietf.org/doc/html/rfc3550#section-11)
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { GatewayError, errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** How long a released pair is passed over while others are free: a PBX stops sending within a few seconds of hang-up. */
export const RELEASE_QUARANTINE_MS = 10_000;
/** Random draws before a crowded range is scanned from a random offset instead. */
const RANDOM_DRAWS = 16;

export interface PortAllocatorOptions {
  /** Lowest port of the range (inclusive). An odd value starts at the next even port. */
  readonly min: number;
  /** Highest port of the range (inclusive); the last pair must fit, RTCP included. */
  readonly max: number;
  /** Local address to bind, e.g. `0.0.0.0` or one interface's IPv4 address. */
  readonly bindAddress: string;
  /** SO_RCVBUF for each socket, in bytes (OS default if unset). */
  readonly receiveBufferSize?: number;
  readonly logger?: Logger;
  /** Clock for the release quarantine (default `Date.now`). */
  readonly now?: () => number;
}

/** The two bound sockets of one leg, as a receiver consumes them. */
export interface RtpSocketPair {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtpSocket: dgram.Socket;
  readonly rtcpSocket: dgram.Socket;
}

/** A pair handed out by {@link PortAllocator.allocate}; give it back with `release()`. */
export interface PortLease extends RtpSocketPair {
  readonly bindAddress: string;
  /**
   * Closes both sockets if still open and returns the pair to the pool once
   * they are closed; the promise resolves then. Idempotent.
   */
  release(): Promise<void>;
}

function bindSocket(address: string, port: number, receiveBufferSize: number | undefined): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    const onError = (err: Error): void => {
      socket.removeListener('listening', onListening);
      closeQuietly(socket);
      reject(err);
    };
    const onListening = (): void => {
      socket.removeListener('error', onError);
      if (receiveBufferSize !== undefined) {
        try {
          socket.setRecvBufferSize(receiveBufferSize);
        } catch {
          // Best effort: the OS may cap it (net.core.rmem_max).
        }
      }
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ address, port, exclusive: true });
  });
}

/** Closes a socket, ignoring "not running" if it was closed already. */
export function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // ERR_SOCKET_DGRAM_NOT_RUNNING: already closed.
  }
}

function isPortBusy(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

export class PortAllocator {
  readonly min: number;
  readonly max: number;
  readonly bindAddress: string;
  readonly #firstEven: number;
  readonly #pairs: number;
  readonly #receiveBufferSize: number | undefined;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  /** RTP ports reserved (bound or being bound) by this allocator. */
  readonly #inUse = new Set<number>();
  /** When each pair was last released, by RTP port (at most one entry per pair of the range). */
  readonly #releasedAt = new Map<number, number>();

  constructor(options: PortAllocatorOptions) {
    const { min, max } = options;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new GatewayError('SGW_CONFIG', `RTP port range ${min}-${max} is invalid: need integers 1 <= min <= max <= 65535`);
    }
    this.#firstEven = min % 2 === 0 ? min : min + 1;
    this.#pairs = Math.max(0, Math.floor((max - this.#firstEven + 1) / 2));
    if (this.#pairs === 0) {
      throw new GatewayError('SGW_CONFIG', `RTP port range ${min}-${max} holds no even/odd RTP/RTCP pair`);
    }
    this.min = min;
    this.max = max;
    this.bindAddress = options.bindAddress;
    this.#receiveBufferSize = options.receiveBufferSize;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** Port pairs in the range. */
  get capacity(): number {
    return this.#pairs;
  }

  /** Port pairs currently handed out (or being bound). */
  get inUse(): number {
    return this.#inUse.size;
  }

  /**
   * Binds a free pair chosen at random.
   *
   * @throws GatewayError `SGW_PORTS_EXHAUSTED` when every pair of the range
   *   is either leased or held by another process; `SGW_CONFIG` when binding
   *   fails for another reason (e.g. the bind address is not local).
   */
  async allocate(): Promise<PortLease> {
    let busyElsewhere = 0;
    // Pairs another process holds, skipped for the rest of this allocation.
    const busy = new Set<number>();
    for (;;) {
      const rtpPort = this.#pick(busy);
      if (rtpPort === undefined) break;
      // Reserve before the first await so concurrent allocations skip it.
      this.#inUse.add(rtpPort);
      let rtpSocket: dgram.Socket | undefined;
      try {
        rtpSocket = await bindSocket(this.bindAddress, rtpPort, this.#receiveBufferSize);
        const rtcpSocket = await bindSocket(this.bindAddress, rtpPort + 1, this.#receiveBufferSize);
        this.#releasedAt.delete(rtpPort);
        return this.#lease(rtpPort, rtpSocket, rtcpSocket);
      } catch (err) {
        if (rtpSocket) closeQuietly(rtpSocket);
        this.#inUse.delete(rtpPort);
        if (!isPortBusy(err)) {
          throw new GatewayError(
            'SGW_CONFIG',
            `cannot bind RTP ports ${rtpPort}/${rtpPort + 1} on ${this.bindAddress}: ${errorMessage(err)}`,
            { cause: err },
          );
        }
        busyElsewhere++;
        busy.add(rtpPort);
        this.#logger?.debug({ port: rtpPort, err: errorMessage(err) }, 'RTP port pair busy, skipping');
      }
    }
    throw new GatewayError(
      'SGW_PORTS_EXHAUSTED',
      `no free RTP port pair in ${this.min}-${this.max} on ${this.bindAddress}: ` +
        `${this.#pairs} pairs, ${this.#inUse.size} in use by calls, ${busyElsewhere} held by other processes`,
    );
  }

  /**
   * A random RTP port of a pair neither in use nor in `busy`, preferring one
   * out of quarantine; undefined when there is none.
   */
  #pick(busy: ReadonlySet<number>): number | undefined {
    const now = this.#now();
    const free = (port: number): boolean => !this.#inUse.has(port) && !busy.has(port);
    const fresh = (port: number): boolean => {
      const releasedAt = this.#releasedAt.get(port);
      return releasedAt === undefined || now - releasedAt >= RELEASE_QUARANTINE_MS;
    };
    // A range mostly free: a draw or two finds a pair.
    for (let i = 0; i < RANDOM_DRAWS; i++) {
      const port = this.#firstEven + randomInt(this.#pairs) * 2;
      if (free(port) && fresh(port)) return port;
    }
    // A crowded range: every pair once, from a random offset, quarantined ones last.
    const offset = randomInt(this.#pairs);
    let quarantined: number | undefined;
    for (let i = 0; i < this.#pairs; i++) {
      const port = this.#firstEven + ((offset + i) % this.#pairs) * 2;
      if (!free(port)) continue;
      if (fresh(port)) return port;
      quarantined ??= port;
    }
    return quarantined;
  }

  /** Same as `lease.release()`: closes its sockets if still open and returns the pair. Idempotent. */
  release(lease: PortLease): Promise<void> {
    return lease.release();
  }

  #lease(rtpPort: number, rtpSocket: dgram.Socket, rtcpSocket: dgram.Socket): PortLease {
    // Until a receiver attaches its own handlers, socket errors must not crash the process.
    const onIdleError = (err: Error): void => {
      this.#logger?.warn({ port: rtpPort, err: errorMessage(err) }, 'RTP socket error');
    };
    rtpSocket.on('error', onIdleError);
    rtcpSocket.on('error', onIdleError);
    let open = 2;
    let markFree: (() => void) | undefined;
    const onClose = (): void => {
      open--;
      if (open === 0 && markFree) markFree();
    };
    rtpSocket.once('close', onClose);
    rtcpSocket.once('close', onClose);
    let released: Promise<void> | undefined;
    return {
      rtpPort,
      rtcpPort: rtpPort + 1,
      rtpSocket,
      rtcpSocket,
      bindAddress: this.bindAddress,
      release: () => {
        released ??= new Promise<void>((resolve) => {
          markFree = () => {
            this.#inUse.delete(rtpPort);
            this.#releasedAt.set(rtpPort, this.#now());
            resolve();
          };
          if (open === 0) markFree();
          closeQuietly(rtpSocket);
          closeQuietly(rtcpSocket);
        });
        return released;
      },
    };
  }
}
