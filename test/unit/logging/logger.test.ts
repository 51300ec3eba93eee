/**
 * Every log line has each key once, whatever a log call passes: pino's own
 * keys are never overwritten by a field (the escalation level once wrote a
 * second `level`, read by pipelines as level "critical"), a binding is not
 * repeated, and `err` always has the shape of an error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../../src/logger.js';
import { MemoryDestination, duplicateKeys } from '../../helpers/logLines.js';

function logger(): { out: MemoryDestination; log: ReturnType<typeof createLogger> } {
  const out = new MemoryDestination();
  return { out, log: createLogger('debug', out) };
}

describe('logger', () => {
  test('a field named like a pino key is renamed, so level, time and msg stay pino\'s', () => {
    const { out, log } = logger();
    const fields = { level: 'critical', time: 5, msg: 'inner', pid: 'p', hostname: 'h', score: 0.9 };
    log.info(fields, 'escalation level changed');
    const [raw] = out.lines;
    assert.ok(raw !== undefined);
    assert.deepEqual(duplicateKeys(raw), [], raw);
    const line = JSON.parse(raw) as Record<string, unknown>;
    assert.equal(line['level'], 30, 'the numeric pino level, not the field');
    assert.equal(line['msg'], 'escalation level changed');
    assert.equal(typeof line['time'], 'string');
    assert.equal(line['levelField'], 'critical');
    assert.equal(line['timeField'], 5);
    assert.equal(line['msgField'], 'inner');
    assert.equal(line['pidField'], 'p');
    assert.equal(line['hostnameField'], 'h');
    assert.equal(line['score'], 0.9);
    assert.deepEqual(fields, { level: 'critical', time: 5, msg: 'inner', pid: 'p', hostname: 'h', score: 0.9 }, 'the caller\'s object is untouched');
  });

  test('a field repeating a binding is left out; one with another value is renamed', () => {
    const { out, log } = logger();
    log.child({ callId: 'c1' }).child({ leg: 'customer' }).warn({ leg: 'customer', callId: 'c2', service: 'x' }, 'transcript gap');
    const [raw] = out.lines;
    assert.ok(raw !== undefined);
    assert.deepEqual(duplicateKeys(raw), [], raw);
    const line = JSON.parse(raw) as Record<string, unknown>;
    assert.equal(line['leg'], 'customer');
    assert.equal(line['callId'], 'c1');
    assert.equal(line['callIdField'], 'c2');
    assert.equal(line['service'], 'speech-gateway');
    assert.equal(line['serviceField'], 'x');
    assert.equal(line['level'], 40);
  });

  test('err is always an error object: a message string keeps the shape, an Error keeps its stack', () => {
    const { out, log } = logger();
    log.error({ err: 'socket hang up' }, 'failed');
    log.error({ err: new Error('boom') }, 'failed');
    const [text, error] = out.parsed;
    assert.deepEqual(text?.['err'], { type: 'ErrorMessage', message: 'socket hang up', stack: '' });
    const serialized = error?.['err'] as { type: string; message: string; stack: string };
    assert.equal(serialized.type, 'Error');
    assert.equal(serialized.message, 'boom');
    assert.match(serialized.stack, /boom\n\s+at /);
  });

  test('the duplicate-key check sees what JSON.parse hides', () => {
    assert.deepEqual(duplicateKeys('{"level":30,"a":{"level":1,"b":[{"c":1,"c":2}]},"level":"critical"}'), ['c', 'level']);
    assert.deepEqual(duplicateKeys('{"a":"x\\",\\"a\\":1","b":["a","a"]}'), []);
  });
});
