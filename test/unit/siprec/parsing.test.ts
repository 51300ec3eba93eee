/**
 * The SIPREC readers on their own: SIP messages (compact forms, folding,
 * comma lists, responses that copy the request's Via, From, To, Call-ID and
 * CSeq), multipart/mixed bodies, RFC 7865 metadata in its RFC and pre-RFC
 * shapes, the SDP offer/answer and the SIPREC_LEGS rules.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { DigestAuthenticator, parseDigestCredentials } from '../../../src/ingest/siprec/digest.js';
import { assignLegs, parseLegRule, type LegRule } from '../../../src/ingest/siprec/legRule.js';
import { splitMultipart } from '../../../src/ingest/siprec/multipart.js';
import { parseRecordingMetadata, senderOfLabel, type RecordingMetadata } from '../../../src/ingest/siprec/recordingMetadata.js';
import { buildAnswer, parseOffer } from '../../../src/ingest/siprec/sdpOffer.js';
import { SipParseError, buildResponse, header, headerParam, parseSipMessage, type SipRequest } from '../../../src/ingest/siprec/SipMessage.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

function request(data: Buffer): SipRequest {
  const parsed = parseSipMessage(data);
  assert.ok('request' in parsed);
  return parsed.request;
}

describe('SIP messages', () => {
  test('compact forms, folded lines and comma-joined Via are read; the body is cut at Content-Length', () => {
    const r = request(
      crlf(['BYE sip:srs@gw SIP/2.0', 'v: SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP/2.0/UDP b.example;branch=z9hG4bK2', 'f: <sip:src@a>;tag=1', 't: <sip:srs@gw>', '  ;tag=2', 'i: abc@a', 'CSeq: 7 BYE', 'l: 3', '', 'xyzEXTRA']),
    );
    assert.equal(r.method, 'BYE');
    assert.deepEqual(r.headers.get('via'), ['SIP/2.0/UDP a.example;branch=z9hG4bK1', 'SIP/2.0/UDP b.example;branch=z9hG4bK2']);
    assert.equal(headerParam(header(r, 'to'), 'tag'), '2');
    assert.equal(r.body.toString(), 'xyz');
    const response = buildResponse(r, 200, { toTag: 'ignored-has-one' }).toString('latin1');
    assert.match(response, /^SIP\/2\.0 200 OK\r\nVia: SIP\/2\.0\/UDP a\.example;branch=z9hG4bK1\r\nVia: SIP\/2\.0\/UDP b\.example;branch=z9hG4bK2\r\nFrom: <sip:src@a>;tag=1\r\nTo: <sip:srs@gw> ;tag=2\r\nCall-ID: abc@a\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n$/);
  });

  test('a request missing a mandatory header, or with a CSeq of another method, is refused with the request kept for the 400', () => {
    const noCallId = crlf(['OPTIONS sip:srs@gw SIP/2.0', 'Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'From: <sip:a>;tag=1', 'To: <sip:b>', 'CSeq: 1 OPTIONS', '', '']);
    assert.throws(() => parseSipMessage(noCallId), (err: unknown) => err instanceof SipParseError && err.request !== undefined && /call-id/.test(err.message));
    const wrongCSeq = crlf(['OPTIONS sip:srs@gw SIP/2.0', 'Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'From: <sip:a>;tag=1', 'To: <sip:b>', 'Call-ID: x', 'CSeq: 1 INVITE', '', '']);
    assert.throws(() => parseSipMessage(wrongCSeq), (err: unknown) => err instanceof SipParseError && err.request !== undefined);
    assert.throws(() => parseSipMessage(Buffer.from('hello\r\n\r\n')), (err: unknown) => err instanceof SipParseError && err.request === undefined);
    assert.throws(() => parseSipMessage(crlf(['INVITE sip:x SIP/2.0', 'Content-Length: 10', '', 'short'])), SipParseError);
  });
});

describe('multipart/mixed', () => {
  test('parts with their types; preamble and epilogue dropped', () => {
    const parts = splitMultipart('preamble\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n<recording/>\r\n--b1--\r\nepilogue', 'b1');
    assert.ok(Array.isArray(parts));
    assert.deepEqual(parts, [
      { type: 'application/sdp', disposition: undefined, content: 'v=0' },
      { type: 'application/rs-metadata+xml', disposition: 'recording-session', content: '<recording/>' },
    ]);
    assert.equal(typeof splitMultipart('--b1\r\n\r\nx\r\n', 'b1'), 'string', 'no closing delimiter');
    assert.equal(typeof splitMultipart('no parts', 'b1'), 'string');
  });
});

/** RFC 7865 §12.2-style metadata (participants, streams, participantstreamassoc), with a namespace prefix. */
const RFC_METADATA = `<?xml version="1.0" encoding="UTF-8"?>
<rs:recording xmlns:rs="urn:ietf:params:xml:ns:recording:1">
  <rs:datamode>complete</rs:datamode>
  <rs:session session_id="hVpd7YQgRW2nD22h7q60JQ=="><rs:sipSessionID>ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2</rs:sipSessionID></rs:session>
  <rs:participant participant_id="srfBElmCRp2QB23b7Mpk0w=="><rs:nameID aor="sip:alice@atlanta.com"><rs:name xml:lang="it">Alice</rs:name></rs:nameID></rs:participant>
  <rs:participant participant_id="zSfPoSvdSDCmU3A3TRDxAw=="><rs:nameID aor="sip:bob@biloxy.com"><rs:name xml:lang="it">Bob</rs:name></rs:nameID></rs:participant>
  <rs:stream stream_id="UAAMm5GRQKSCMVvLyl4rFw==" session_id="hVpd7YQgRW2nD22h7q60JQ=="><rs:label>96</rs:label></rs:stream>
  <rs:stream stream_id="i1Pz3to5hGk8fuXl+PbwCw==" session_id="hVpd7YQgRW2nD22h7q60JQ=="><rs:label>97</rs:label></rs:stream>
  <rs:participantstreamassoc participant_id="srfBElmCRp2QB23b7Mpk0w=="><rs:send>i1Pz3to5hGk8fuXl+PbwCw==</rs:send><rs:recv>UAAMm5GRQKSCMVvLyl4rFw==</rs:recv></rs:participantstreamassoc>
  <rs:participantstreamassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw=="><rs:send>UAAMm5GRQKSCMVvLyl4rFw==</rs:send><rs:recv>i1Pz3to5hGk8fuXl+PbwCw==</rs:recv></rs:participantstreamassoc>
</rs:recording>`;

describe('recording metadata', () => {
  test('RFC 7865 form: session id, AoRs, names, and who sends which labelled stream', () => {
    const m = parseRecordingMetadata(RFC_METADATA);
    assert.ok(typeof m !== 'string', typeof m === 'string' ? m : '');
    assert.equal(m.sessionId, 'hVpd7YQgRW2nD22h7q60JQ==');
    assert.equal(m.sipSessionId, 'ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2');
    assert.deepEqual(m.participants.map((p) => [p.aor, p.name]), [['sip:alice@atlanta.com', 'Alice'], ['sip:bob@biloxy.com', 'Bob']]);
    assert.equal(senderOfLabel(m, '97')?.aor, 'sip:alice@atlanta.com');
    assert.equal(senderOfLabel(m, '96')?.aor, 'sip:bob@biloxy.com');
  });

  test('pre-RFC form: send inside participant', () => {
    const m = parseRecordingMetadata('<recording xmlns="urn:ietf:params:xml:ns:recording"><session id="s1"/><participant id="p1"><nameID aor="sip:a@x"/><send>st1</send></participant><stream id="st1" stream_id="st1"><label>L1</label></stream></recording>') as RecordingMetadata;
    assert.equal(senderOfLabel(m, 'L1')?.aor, 'sip:a@x');
  });

  test('not XML, or not a recording: a problem, never a throw', () => {
    const problem = (xml: string): string => {
      const result = parseRecordingMetadata(xml);
      return typeof result === 'string' ? result : 'parsed';
    };
    assert.match(problem('<recording><participant></recording>'), /not well-formed/);
    assert.match(problem('<other/>'), /no <recording>/);
    const external = parseRecordingMetadata('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><recording><participant participant_id="p"><nameID aor="&e;"/></participant></recording>');
    assert.ok(!JSON.stringify(typeof external === 'string' ? external : external.participants).includes('root:'), 'external entities are never read');
  });
});

describe('SDP offer and answer', () => {
  const offer = ['v=0', 'o=src 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 18 8 0 101', 'a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000', 'a=label:1', 'a=sendonly', 'm=audio 4002 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2', 'a=label:2', 'a=sendonly', 'm=audio 4004 RTP/SAVP 0', 'a=label:3', 'm=video 4006 RTP/AVP 96', ''].join('\r\n');

  test("the offer's first codec the gateway decodes is taken, per m-line; SRTP and video are refused", () => {
    const streams = parseOffer(offer);
    assert.ok(Array.isArray(streams));
    const codec = streams.map((s) => (typeof s.codec === 'string' ? 'refused' : `${s.codec.name}/${s.codec.payloadType}/${s.codec.telephoneEventPayloadType ?? '-'}`));
    assert.deepEqual(codec, ['PCMA/8/101', 'OPUS/111/-', 'refused', 'refused']);
    assert.deepEqual(streams.map((s) => s.label), ['1', '2', '3', undefined]);
  });

  test('the answer keeps every m-line in order: taken ones recvonly on their port with RTCP at +1, refused ones on port 0', () => {
    const streams = parseOffer(offer);
    assert.ok(Array.isArray(streams));
    const sdp = buildAnswer('192.0.2.10', 42, 1, streams.map((s, i) => ({ offered: s, port: i < 2 ? 40000 + 2 * i : undefined })));
    assert.deepEqual(sdp.split('\r\n').filter((l) => l.startsWith('m=')), ['m=audio 40000 RTP/AVP 8 101', 'm=audio 40002 RTP/AVP 111', 'm=audio 0 RTP/SAVP 0', 'm=video 0 RTP/AVP 96']);
    assert.match(sdp, /a=rtpmap:8 PCMA\/8000\r\na=rtpmap:101 telephone-event\/8000\r\na=fmtp:101 0-16\r\na=rtcp:40001\r\na=label:1\r\na=recvonly/);
    assert.match(sdp, /a=rtpmap:111 opus\/48000\/2/);
    assert.match(sdp, /^c=IN IP4 192\.0\.2\.10$/m);
  });

  test('not SDP: a problem', () => {
    assert.equal(typeof parseOffer('hello'), 'string');
  });
});

describe('SIPREC_LEGS', () => {
  const rule = (text: string): LegRule => {
    const parsed = parseLegRule(text);
    assert.ok(typeof parsed !== 'string', typeof parsed === 'string' ? parsed : '');
    return parsed;
  };
  const roles = (r: LegRule, streams: { label?: string; senderAor?: string }[]): unknown => {
    const { roles: map, fallback } = assignLegs(r, streams.map((s) => ({ label: s.label, senderAor: s.senderAor })));
    return { roles: [...map.entries()].sort(([a], [b]) => a - b).map(([, role]) => role), fallback };
  };

  test('direction: the caller (first stream) is the customer inbound, the agent outbound', () => {
    assert.deepEqual(roles(rule('direction:inbound'), [{}, {}]), { roles: ['customer', 'agent'], fallback: false });
    assert.deepEqual(roles(rule('direction:outbound'), [{}, {}]), { roles: ['agent', 'customer'], fallback: false });
  });

  test('aor: the matching participant is the agent; without metadata, stream order decides and says so', () => {
    const r = rule('aor:^sip:agent-');
    assert.deepEqual(roles(r, [{ senderAor: 'sip:agent-7@pbx' }, { senderAor: 'tel:+1555' }]), { roles: ['agent', 'customer'], fallback: false });
    assert.deepEqual(roles(r, [{}, {}]), { roles: ['customer', 'agent'], fallback: true });
  });

  test('label: by a=label', () => {
    assert.deepEqual(roles(rule('label:cust,agt'), [{ label: 'agt' }, { label: 'cust' }]), { roles: ['agent', 'customer'], fallback: false });
  });

  test('bad rules are refused with what is expected', () => {
    for (const bad of ['sideways', 'direction:up', 'aor:', 'aor:(', 'label:a', 'label:a,a']) assert.equal(typeof parseLegRule(bad), 'string', bad);
  });
});

describe('digest authentication', () => {
  const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
  /** An Authorization value computed as RFC 2617 §3.2.2 says, from a challenge. */
  const answer = (challenge: string, username: string, password: string): string => {
    const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const ha1 = md5(`${username}:speech-gateway:${password}`);
    const response = md5(`${ha1}:${nonce}:00000001:c0ffee:auth:${md5('INVITE:sip:srs@gw')}`);
    return `Digest username="${username}", realm="speech-gateway", nonce="${nonce}", uri="sip:srs@gw", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`;
  };

  test('the right answer passes; a wrong password or user, a forged nonce, none at all do not; an old nonce is stale', () => {
    let now = 1_000_000;
    const digest = new DigestAuthenticator({ username: 'rec', password: 'pw' }, () => now);
    const challenge = digest.challenge();
    assert.equal(digest.verify('INVITE', answer(challenge, 'rec', 'pw')), 'ok');
    assert.equal(digest.verify('INVITE', answer(challenge, 'rec', 'other')), 'wrong');
    assert.equal(digest.verify('INVITE', answer(challenge, 'someone', 'pw')), 'wrong');
    assert.equal(digest.verify('INVITE', answer(challenge.replace(/nonce="([0-9a-f]+)\./, 'nonce="ffffff.'), 'rec', 'pw')), 'wrong');
    assert.equal(digest.verify('INVITE', undefined), 'missing');
    now += 6 * 60_000;
    assert.equal(digest.verify('INVITE', answer(challenge, 'rec', 'pw')), 'stale');
    assert.match(digest.challenge(true), /, stale=true$/);
  });

  test('SIPREC_DIGEST is <username>:<password>', () => {
    assert.deepEqual(parseDigestCredentials('rec:a:b'), { username: 'rec', password: 'a:b' });
    for (const bad of ['rec', ':pw', 'rec:', 'a b:pw']) assert.equal(typeof parseDigestCredentials(bad), 'string', bad);
  });
});
