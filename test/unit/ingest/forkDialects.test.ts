/**
 * What each platform's first frame means for the call (src/ingest/websocket/fork/dialects.ts):
 * the metadata each documentation describes, mapped onto call id, agent,
 * queue, language, sample rate and the leg of each channel.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ForkProtocolError, jambonzDtmf, parseStart, sniffDialect } from '../../../src/ingest/websocket/fork/dialects.js';
import { asteriskMediaStart, asteriskMediaStartJson, jambonzListenMetadata } from '../../helpers/clients/audioFork.js';

const query = (q = ''): URLSearchParams => new URLSearchParams(q);

function refused(fn: () => unknown, code: number, reason: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ForkProtocolError && err.code === code && err.reason === reason);
}

describe('audio fork dialects', () => {
  test('mod_audio_fork: the drachtio example metadata (callid, from, to) with the format from the URL', () => {
    const start = parseStart('audio-fork', JSON.stringify({ to: '6173333456', from: '2061236666', callid: 'abc-123', queue: 'orders' }), query('mix=stereo&rate=16k'));
    assert.deepEqual(
      { callId: start.callId, caller: start.caller, callee: start.callee, queue: start.queue, rate: start.sampleRate, roles: start.roles },
      { callId: 'abc-123', caller: '2061236666', callee: '6173333456', queue: 'orders', rate: 16000, roles: ['customer', 'agent'] },
    );
  });

  test('FreeSWITCH: opaque text metadata is kept opaque; no metadata (mod_audio_stream) is 8 kHz mono with a generated call id', () => {
    const opaque = parseStart('audio-fork', "{'caller':'1000'} is not JSON but starts with neither", query());
    assert.equal(opaque.callId, undefined);
    const none = parseStart('audio-stream', undefined, query('agentId=a1'));
    assert.deepEqual({ rate: none.sampleRate, roles: none.roles, agent: none.agentId, callId: none.callId }, { rate: 8000, roles: ['customer'], agent: 'a1', callId: undefined });
  });

  test('an outbound call puts the agent on channel 0; the metadata wins over the query', () => {
    const start = parseStart('audio-stream', JSON.stringify({ direction: 'outbound', mixType: 'stereo', sampleRate: 8000, agentId: 'meta' }), query('agentId=query'));
    assert.deepEqual(start.roles, ['agent', 'customer']);
    assert.equal(start.agentId, 'meta');
  });

  test('jambonz: callSid is the call id (callId is the SIP Call-ID), nested metadata read, format from the frame', () => {
    const frame = jambonzListenMetadata({ callSid: 'b3f0c1d2-0000-4000-8000-000000000001', from: '+1555', to: '+1666', direction: 'inbound', sampleRate: 16000, mixType: 'mono', metadata: { metadata: { agentId: 'ag', language: 'nl-NL' } } });
    const start = parseStart('jambonz', frame, query());
    assert.deepEqual(
      { callId: start.callId, caller: start.caller, callee: start.callee, agent: start.agentId, language: start.language, rate: start.sampleRate, roles: start.roles },
      { callId: 'b3f0c1d2-0000-4000-8000-000000000001', caller: '+1555', callee: '+1666', agent: 'ag', language: 'nl-NL', rate: 16000, roles: ['customer'] },
    );
    refused(() => parseStart('jambonz', frame.replace('"mono"', '"mixed"'), query()), 1008, 'unsupported-media');
    refused(() => parseStart('jambonz', '[1]', query()), 1007, 'malformed-message');
  });

  test('Asterisk: plain-text and JSON MEDIA_START; slin/slin16; the frame size when format is absent; ?leg=agent', () => {
    const plain = parseStart('asterisk', asteriskMediaStart('conn1', 'slin'), query('leg=agent'));
    assert.deepEqual({ callId: plain.callId, rate: plain.sampleRate, roles: plain.roles }, { callId: 'conn1', rate: 8000, roles: ['agent'] });
    const json = parseStart('asterisk', asteriskMediaStartJson('conn2', '1761245643.1', 'slin16', { agentId: 'agent-5' }), query());
    assert.deepEqual({ callId: json.callId, rate: json.sampleRate, agent: json.agentId }, { callId: '1761245643.1', rate: 16000, agent: 'agent-5' });
    const older = parseStart('asterisk', 'MEDIA_START connection_id:c3 channel:WebSocket/c3/0x1 optimal_frame_size:640', query());
    assert.equal(older.sampleRate, 16000);
    refused(() => parseStart('asterisk', 'MEDIA_XOFF', query()), 1008, 'wrong-order');
    refused(() => parseStart('asterisk', 'MEDIA_START broken', query()), 1008, 'bad-field');
    refused(() => parseStart('asterisk', asteriskMediaStart('c4', 'slin'), query('leg=supervisor')), 1008, 'bad-field');
  });

  test('the first frame tells the dialect when path and subprotocol do not', () => {
    assert.equal(sniffDialect(asteriskMediaStart('c', 'slin16')), 'asterisk');
    assert.equal(sniffDialect(asteriskMediaStartJson('c', '1.1', 'slin16')), 'asterisk');
    assert.equal(sniffDialect(jambonzListenMetadata({ callSid: 'x', from: '1', to: '2', direction: 'inbound', sampleRate: 8000, mixType: 'mono' })), 'jambonz');
    assert.equal(sniffDialect('{"callid":"x"}'), 'audio-fork');
  });

  test('jambonz DTMF frames', () => {
    assert.equal(jambonzDtmf('{"event":"dtmf","dtmf":"#","duration":1600}'), '#');
    assert.equal(jambonzDtmf('{"event":"dtmf","dtmf":"55"}'), undefined);
    assert.equal(jambonzDtmf('{"event":"other"}'), undefined);
  });
});
