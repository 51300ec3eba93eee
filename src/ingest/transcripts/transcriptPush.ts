import type { RecognitionResult, WordTiming } from '../../asr/types.js';
import { invalidArgument } from '../../errors.js';
import type { LegRole } from '../../events.js';

/** Limits of a pushed transcript, checked as received. */
export const TRANSCRIPT_LIMITS = {
  maxTextChars: 4096,
  maxWords: 512,
  /** 24 h: a pushed time beyond this is a client bug, not a long call. */
  maxTimeMs: 24 * 3600 * 1000,
} as const;

/** A pushed transcript before validation, whatever the channel. */
export interface TranscriptPushInput {
  readonly callId: unknown;
  readonly role: unknown;
  readonly text: unknown;
  readonly final: unknown;
  readonly utteranceId: unknown;
  readonly startMs: unknown;
  readonly endMs: unknown;
  readonly words?: unknown;
}

export interface TranscriptPush {
  readonly callId: string;
  readonly role: LegRole;
  readonly result: RecognitionResult;
}

/**
 * Validates a pushed transcript (gRPC PushTranscript or /v1/transcripts).
 * `field` maps a field to the channel's own spelling for error messages
 * (`start_ms` on gRPC, `startMs` on the WebSocket).
 * @throws GatewayError INVALID_ARGUMENT naming the field.
 */
export function parseTranscriptPush(input: TranscriptPushInput, field: (name: string) => string = (n) => n): TranscriptPush {
  if (typeof input.callId !== 'string' || input.callId === '') throw invalidArgument(field('callId'), 'is required');
  if (input.role !== 'customer' && input.role !== 'agent') throw invalidArgument(field('role'), 'must be customer or agent');
  if (typeof input.text !== 'string') throw invalidArgument(field('text'), 'must be a string');
  if (input.text.length > TRANSCRIPT_LIMITS.maxTextChars) {
    throw invalidArgument(field('text'), `${input.text.length} characters exceed the limit of ${TRANSCRIPT_LIMITS.maxTextChars}`);
  }
  if (typeof input.final !== 'boolean') throw invalidArgument(field('final'), 'must be a boolean');
  const time = (name: 'utteranceId' | 'startMs' | 'endMs', value: unknown): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > TRANSCRIPT_LIMITS.maxTimeMs) {
      throw invalidArgument(field(name), `must be an integer in [0, ${TRANSCRIPT_LIMITS.maxTimeMs}]`);
    }
    return value;
  };
  const utteranceId = time('utteranceId', input.utteranceId);
  const startMs = time('startMs', input.startMs);
  const endMs = time('endMs', input.endMs);
  if (endMs < startMs) throw invalidArgument(field('endMs'), `${endMs} is before ${field('startMs')} ${startMs}`);

  const words: WordTiming[] = [];
  if (input.words !== undefined && input.words !== null) {
    if (!Array.isArray(input.words)) throw invalidArgument(field('words'), 'must be a list');
    if (input.words.length > TRANSCRIPT_LIMITS.maxWords) throw invalidArgument(field('words'), `${input.words.length} words exceed the limit of ${TRANSCRIPT_LIMITS.maxWords}`);
    input.words.forEach((raw: unknown, i) => {
      const w = raw as Record<string, unknown> | null;
      const at = `${field('words')}[${i}]`;
      if (typeof w !== 'object' || w === null || typeof w['word'] !== 'string' || w['word'].length > 128) throw invalidArgument(`${at}.word`, 'must be a string of at most 128 characters');
      const ws = w['startMs'] ?? w['start_ms'];
      const we = w['endMs'] ?? w['end_ms'];
      if (typeof ws !== 'number' || typeof we !== 'number' || !(ws >= 0 && we >= ws && we <= TRANSCRIPT_LIMITS.maxTimeMs)) {
        throw invalidArgument(`${at}`, 'needs start and end times with 0 <= start <= end');
      }
      const confidence = w['confidence'];
      words.push({
        word: w['word'],
        startMs: ws,
        endMs: we,
        ...(typeof confidence === 'number' && confidence > 0 && confidence <= 1 ? { confidence } : {}),
      });
    });
  }
  return { callId: input.callId, role: input.role, result: { final: input.final, utteranceId, text: input.text, startMs, endMs, words } };
}
