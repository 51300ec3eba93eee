/**
 * Vosk's result JSON, as libvosk returns it and vosk-server sends it
 * (the same documents): partials, finals, finals with alternatives.
 */
import type { Hypothesis, WordTiming } from '../../types.js';

/** Vosk result JSON, validated field by field (it crosses a native boundary or a network). */
export interface ParsedResult {
  readonly text: string;
  readonly words: WordTiming[];
  /** The hypotheses after the best (`{"alternatives": […]}` results); empty otherwise. */
  readonly alternatives: Hypothesis[];
}

/**
 * Parses `{"text"|"partial": "...", "result"|"partial_result": [{word,start,end,conf}]}`,
 * or a final with alternatives, `{"alternatives": [{"text", "confidence", "result"}, …]}`
 * (best first); times in seconds.
 */
export function parseVoskResult(json: string, offsetMs = 0): ParsedResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { text: '', words: [], alternatives: [] };
  }
  if (typeof parsed !== 'object' || parsed === null) return { text: '', words: [], alternatives: [] };
  const obj = parsed as Record<string, unknown>;
  const list = obj['alternatives'];
  if (Array.isArray(list)) {
    const hypotheses = (list as unknown[]).filter((h): h is Record<string, unknown> => typeof h === 'object' && h !== null).map((h) => parseHypothesis(h, offsetMs));
    const [best, ...rest] = hypotheses;
    const seen = new Set([best?.text ?? '']);
    const alternatives = rest.filter((h) => h.text !== '' && !seen.has(h.text) && seen.add(h.text));
    return { text: best?.text ?? '', words: best?.words ?? [], alternatives };
  }
  return { ...parseHypothesis(obj, offsetMs), alternatives: [] };
}

function parseHypothesis(obj: Record<string, unknown>, offsetMs: number): { text: string; words: WordTiming[] } {
  const textField = obj['text'] ?? obj['partial'];
  const text = typeof textField === 'string' ? textField.trim() : '';
  const list = obj['result'] ?? obj['partial_result'];
  const words: WordTiming[] = [];
  if (Array.isArray(list)) {
    for (const item of list as unknown[]) {
      if (typeof item !== 'object' || item === null) continue;
      const w = item as Record<string, unknown>;
      const word = w['word'];
      const start = w['start'];
      const end = w['end'];
      const conf = w['conf'];
      if (typeof word !== 'string' || typeof start !== 'number' || typeof end !== 'number') continue;
      if (word === '[unk]' || word === '<unk>') continue;
      words.push({
        word,
        startMs: offsetMs + Math.round(start * 1000),
        endMs: offsetMs + Math.round(end * 1000),
        ...(typeof conf === 'number' ? { confidence: Math.min(1, Math.max(0, conf)) } : {}),
      });
    }
  }
  return { text, words };
}

/** What a vosk-server message is, by its fields: anything else is not the protocol. */
export type VoskMessageKind = 'partial' | 'final' | 'invalid';

export function voskMessageKind(json: string): VoskMessageKind {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return 'invalid';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'invalid';
  const obj = parsed as Record<string, unknown>;
  if (typeof obj['partial'] === 'string') return 'partial';
  if (typeof obj['text'] === 'string' || Array.isArray(obj['alternatives'])) return 'final';
  return 'invalid';
}
