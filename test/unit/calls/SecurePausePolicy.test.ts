import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecurePausePolicy, parseSecurePauseSequences } from '../../../src/calls/SecurePausePolicy.js';
import { loadConfig } from '../../../src/config.js';

function setup(start = '*7', stop = '#') {
  const log: string[] = [];
  let paused = false;
  const policy = new SecurePausePolicy({ start, stop }, {
    suspend: () => {
      paused = true;
      log.push('suspend');
    },
    resume: () => {
      paused = false;
      log.push('resume');
    },
    isSecurePaused: () => paused,
  });
  const keys = (digits: string, leg: 'customer' | 'agent' = 'agent') => {
    for (const d of digits) policy.onDigit(d, leg);
  };
  return { log, keys, setPaused: (p: boolean) => (paused = p) };
}

void describe('SecurePausePolicy', () => {
  void it('starts on the start sequence and stops on the stop sequence, keys across both legs', () => {
    const { log, keys } = setup();
    keys('12*');
    assert.deepEqual(log, []);
    keys('7', 'customer');
    assert.deepEqual(log, ['suspend']);
    keys('4111111111111111*7'); // card digits, and *7 again while paused: no second suspend
    assert.deepEqual(log, ['suspend']);
    keys('#');
    assert.deepEqual(log, ['suspend', 'resume']);
    keys('#'); // stop while not paused: nothing
    assert.deepEqual(log, ['suspend', 'resume']);
  });

  void it('a pause set over the control plane is ended by the stop sequence', () => {
    const { log, keys, setPaused } = setup('*7', '##');
    setPaused(true);
    keys('#');
    assert.deepEqual(log, []);
    keys('#');
    assert.deepEqual(log, ['resume']);
  });

  void it('parses SECURE_PAUSE_DTMF', () => {
    assert.equal(parseSecurePauseSequences('off'), undefined);
    assert.equal(parseSecurePauseSequences(''), undefined);
    assert.deepEqual(parseSecurePauseSequences(' *7 , # '), { start: '*7', stop: '#' });
    assert.deepEqual(parseSecurePauseSequences('a1,b'), { start: 'A1', stop: 'B' });
    assert.match(parseSecurePauseSequences('*7') as string, /start/);
    assert.match(parseSecurePauseSequences('*7,#,1') as string, /start/);
    assert.match(parseSecurePauseSequences('*x,#') as string, /keys/);
    assert.match(parseSecurePauseSequences('123456789,#') as string, /keys/);
    assert.match(parseSecurePauseSequences('#,#') as string, /different/);
  });

  void it('is a gateway option, refused with the flag and variable named when invalid', () => {
    assert.deepEqual(loadConfig([], { SECURE_PAUSE_DTMF: '*9,#' }).securePauseDtmf, { start: '*9', stop: '#' });
    assert.equal(loadConfig([], {}).securePauseDtmf, undefined);
    assert.throws(() => loadConfig(['--secure-pause-dtmf', 'x'], {}), /--secure-pause-dtmf \/ SECURE_PAUSE_DTMF must be/);
  });
});
