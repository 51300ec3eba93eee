import { EventEmitter } from 'node:events';
import type { PortLease } from '../../ingest/rtp/PortAllocator.js';
import type { RtpLegReceiver } from '../../ingest/rtp/RtpLegReceiver.js';
import type { LegMedia, LegMediaEvents, LegMediaSnapshot } from './LegMedia.js';

/** A leg's media as RTP (and RTCP on port+1) on ports leased for the call. */
export class RtpLegMedia extends EventEmitter<LegMediaEvents> implements LegMedia {
  private closed = false;

  constructor(
    private readonly receiver: RtpLegReceiver,
    private readonly lease: PortLease,
    private readonly advertisedHost: string,
  ) {
    super();
    receiver.on('audio', (frame) => this.emit('audio', frame));
    receiver.once('bye', () => this.emit('bye'));
    receiver.on('dtmf', (press) => this.emit('dtmf', { digit: press.digit, receivedAt: press.receivedAt, durationMs: press.durationMs }));
  }

  get snapshot(): LegMediaSnapshot {
    const stats = this.receiver.stats;
    return {
      transport: 'rtp',
      host: this.advertisedHost,
      rtpPort: this.lease.rtpPort,
      rtcpPort: this.lease.rtcpPort,
      remote: stats.remote === undefined ? undefined : `${stats.remote.address}:${stats.remote.port}`,
      packetsReceived: stats.packetsReceived,
      packetsDropped: stats.packetsDropped,
      packetsLost: stats.packetsLost,
      lastPacketAt: stats.lastPacketAt,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.receiver.close();
    await this.lease.release();
  }
}
