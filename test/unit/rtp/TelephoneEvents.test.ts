import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TelephoneEvents, type TelephoneEventPress } from '../../../src/ingest/rtp/TelephoneEvents.js';

/** RFC 4733 §2.3 payload: event, E|R|volume, duration (16 bits). */
function ev(event: number, durationTicks: number, end = false, volume = 10): Uint8Array {
  return new Uint8Array([event, (end ? 0x80 : 0) | volume, (durationTicks >> 8) & 0xff, durationTicks & 0xff]);
}

function setup(idleEndMs?: number) {
  const presses: TelephoneEventPress[] = [];
  const events = new TelephoneEvents({ clockRate: 8000, onPress: (p) => presses.push(p), ...(idleEndMs === undefined ? {} : { idleEndMs }) });
  return { events, presses };
}

void describe('TelephoneEvents (RFC 4733)', () => {
  void it('reports a digit with three redundant end packets once, with its duration', () => {
    const { events, presses } = setup();
    const outcomes = [
      events.push(1, 8000, ev(5, 160), 1000),
      events.push(1, 8000, ev(5, 320), 1020),
      events.push(1, 8000, ev(5, 480), 1040),
      events.push(1, 8000, ev(5, 800, true), 1060),
      events.push(1, 8000, ev(5, 800, true), 1061),
      events.push(1, 8000, ev(5, 800, true), 1062),
    ];
    assert.deepEqual(outcomes, ['update', 'update', 'update', 'digit', 'redundant', 'redundant']);
    assert.deepEqual(presses, [{ digit: '5', receivedAt: 1000, durationMs: 100, rtpTimestamp: 8000 }]);
  });

  void it('maps the 16 DTMF event codes and ignores other events', () => {
    const { events, presses } = setup();
    for (let code = 0; code < 16; code++) events.push(1, code * 1000, ev(code, 400, true), code);
    assert.equal(presses.map((p) => p.digit).join(''), '0123456789*#ABCD');
    assert.equal(events.push(1, 99_000, ev(16, 400, true), 99), 'ignored'); // flash
    assert.equal(presses.length, 16);
  });

  void it('the same digit pressed twice is two presses (different timestamps)', () => {
    const { events, presses } = setup();
    events.push(1, 1000, ev(1, 800, true), 0);
    events.push(1, 1000, ev(1, 800, true), 1);
    events.push(1, 5000, ev(1, 800, true), 500);
    events.push(1, 5000, ev(1, 800, true), 501);
    assert.deepEqual(presses.map((p) => p.digit), ['1', '1']);
  });

  void it('reports a press whose end packets were lost when the next starts, on expiry, or on flush', () => {
    const { events, presses } = setup(500);
    events.push(1, 1000, ev(2, 160), 0);
    events.push(1, 1000, ev(2, 480), 40);
    events.push(1, 9000, ev(3, 160), 2000); // next press: the '2' is reported with what was seen
    assert.deepEqual(presses.map((p) => [p.digit, p.durationMs]), [['2', 60]]);
    events.expire(2400);
    assert.equal(presses.length, 1, 'not idle long enough yet');
    events.expire(2500);
    assert.deepEqual(presses.map((p) => p.digit), ['2', '3']);
    events.push(1, 20_000, ev(4, 160), 3000);
    events.flush();
    assert.deepEqual(presses.map((p) => p.digit), ['2', '3', '4']);
    // A straggling update of a reported press does not bring it back.
    assert.equal(events.push(1, 20_000, ev(4, 320), 3100), 'redundant');
    assert.equal(presses.length, 3);
  });

  void it('refuses malformed payloads', () => {
    const { events, presses } = setup();
    assert.equal(events.push(1, 0, new Uint8Array(3), 0), 'malformed');
    assert.equal(events.push(1, 0, new Uint8Array(6), 0), 'malformed');
    assert.equal(presses.length, 0);
  });

  void it('converts durations with the stream clock (Opus legs tick at 48 kHz)', () => {
    const presses: TelephoneEventPress[] = [];
    const events = new TelephoneEvents({ clockRate: 48000, onPress: (p) => presses.push(p) });
    events.push(1, 0, ev(11, 4800, true), 0);
    assert.deepEqual(presses.map((p) => [p.digit, p.durationMs]), [['#', 100]]);
  });
});
