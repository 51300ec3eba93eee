import type { Credential } from '../../auth/credential.js';
import type { CallManager } from '../../calls/CallManager.js';
import type { StreamedLegMedia } from '../../calls/media/StreamedLegMedia.js';
import { GatewayError } from '../../errors.js';
import type { Language } from '../../language.js';
import type { LegRole } from '../../events.js';

/** Who a connection's call belongs to when nothing else says so (options AUDIOSOCKET_*). */
export interface AudioSocketCallDefaults {
  readonly agentId: string;
  readonly queue: string;
  readonly language: Language;
}

/**
 * How connections map to call legs (option AUDIOSOCKET_LEGS):
 * - `customer`: every connection is the customer leg of its own call, whose id is the UUID.
 * - `paired`: a UUID ending in `0` is the customer leg, one ending in `1` the
 *   agent leg, of the call whose id is the UUID without that last digit (both
 *   legs are announced at start; a leg that never connects stays silent). A
 *   UUID ending in anything else is a customer-only call as in `customer`.
 */
export type AudioSocketLegMode = 'customer' | 'paired';

export interface LegAssignment {
  readonly callId: string;
  readonly role: LegRole;
  readonly roles: readonly LegRole[];
}

/** The call and leg a stream UUID stands for. */
export function assignLeg(uuid: string, mode: AudioSocketLegMode): LegAssignment {
  const last = uuid.at(-1);
  if (mode === 'paired' && (last === '0' || last === '1')) {
    return { callId: uuid.slice(0, -1), role: last === '0' ? 'customer' : 'agent', roles: ['customer', 'agent'] };
  }
  return { callId: uuid, role: 'customer', roles: ['customer'] };
}

interface Entry {
  readonly rate: 8000 | 16000;
  readonly started: Promise<ReadonlyMap<LegRole, StreamedLegMedia>>;
  readonly taken: Set<LegRole>;
}

/**
 * Calls started by AudioSocket connections, so that the second connection of
 * a paired call joins the call the first one started instead of starting
 * another. Entries live from the first leg's start until the call ends
 * ({@link forget}); at most one per active call.
 */
export class AudioSocketCalls {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly calls: CallManager,
    private readonly defaults: AudioSocketCallDefaults,
  ) {}

  /**
   * The leg's media: starts the call on its first leg, waits for the start
   * on the second.
   * The call counts against `credential` (the first leg's peer address: AudioSocket has no credentials).
   * @throws GatewayError SGW_CALL_EXISTS for a leg already streamed, SGW_INVALID_ARGUMENT
   *   for a rate other than the call's, and whatever the start refused with.
   */
  async attach(assignment: LegAssignment, rate: 8000 | 16000, remote: string, credential: Credential): Promise<StreamedLegMedia> {
    const { callId, role, roles } = assignment;
    let entry = this.entries.get(callId);
    if (entry === undefined) {
      const { defaults } = this;
      const started = this.calls
        .startStreamed(
          // L16 stands for decoded slin here: the connection decodes, the codec only carries the rate.
          { callId, agentId: defaults.agentId, queue: defaults.queue, language: defaults.language, legs: roles.map((r) => ({ role: r, codec: { name: 'L16', clockRate: rate, payloadType: 96 } })) },
          'audiosocket',
          remote,
          credential,
        )
        .then(({ media }) => media);
      entry = { rate, started, taken: new Set() };
      this.entries.set(callId, entry);
      const created = entry;
      started.catch(() => {
        if (this.entries.get(callId) === created) this.entries.delete(callId);
      });
    } else {
      if (entry.taken.has(role)) throw new GatewayError('SGW_CALL_EXISTS', `the ${role} leg of call ${callId} is already streaming`);
      if (entry.rate !== rate) throw new GatewayError('SGW_INVALID_ARGUMENT', `the ${role} leg sends ${rate} Hz, call ${callId} runs at ${entry.rate} Hz`);
    }
    entry.taken.add(role);
    const media = (await entry.started).get(role);
    if (media === undefined) throw new GatewayError('SGW_INVALID_ARGUMENT', `call ${callId} has no ${role} leg`);
    return media;
  }

  /** The call ended: a new connection with its UUID starts a new call. */
  forget(callId: string): void {
    this.entries.delete(callId);
  }
}
