/**
 * One list of event types: EVENT_TYPES is what the `types=` filter accepts,
 * and the docs must describe exactly those types (the `type` field's list and
 * one section per type in docs/events.md, and the README's events line).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { PACKAGE_ROOT } from '../../../src/config.js';
import { EVENT_TYPES, isEventType } from '../../../src/events.js';

const eventsDoc = await readFile(path.join(PACKAGE_ROOT, 'docs', 'events.md'), 'utf8');
const readme = await readFile(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
const quoted = (text: string): string[] => [...text.matchAll(/`([a-z.]+)`/g)].map((m) => m[1] ?? '');

describe('event types', () => {
  test('docs/events.md lists exactly EVENT_TYPES for the type field, and describes each in a section of its own, in that order', () => {
    const row = eventsDoc.split('\n').find((line) => line.startsWith('| `type` |')) ?? assert.fail('no `type` row in docs/events.md');
    assert.deepEqual(quoted(row.split('|')[3] ?? ''), EVENT_TYPES);
    const sections = [...eventsDoc.matchAll(/^## `([a-z.]+)`$/gm)].map((m) => m[1]);
    assert.deepEqual(sections, EVENT_TYPES);
  });

  test("the README's events line names every type", () => {
    const line = readme.split('\n- **').find((item) => item.startsWith('Events**')) ?? assert.fail('no Events item in README.md');
    for (const type of EVENT_TYPES) assert.ok(quoted(line).includes(type), `README names ${type}`);
  });

  test('control messages and anything else are not event types', () => {
    for (const type of EVENT_TYPES) assert.ok(isEventType(type), type);
    for (const other of ['heartbeat', 'resume.gap', 'auth.ok', 'auth', '', 'toString', '__proto__', 'dtmf ']) assert.ok(!isEventType(other), JSON.stringify(other));
  });
});
