import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, isMap, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { GatewayError } from '../../errors.js';
import { LANGUAGES, type Language } from '../../language.js';
import { PhraseSyntaxError, SLOT_NAMES, expandPhrase, isSlotName, parseElement, type SlotName } from './phrase.js';

export type IntentKind = 'intent' | 'escalation';
export type SpeakerScope = 'customer' | 'agent' | 'either';
export type Severity = 'info' | 'warning' | 'critical';

/** The call-time span in which an intent counts (`window:` in the file, seconds there). */
export interface IntentWindow {
  /** Counts from this call time on (inclusive). */
  readonly afterMs: number;
  /** Counts until this call time (exclusive); `Infinity` when open-ended. */
  readonly beforeMs: number;
}

/** One grammar file's text, as read from disk or given by a test. */
export interface GrammarSource {
  readonly file: string;
  readonly language: Language;
  readonly text: string;
}

/** One intent of a grammar file, compiled. */
export interface IntentDefinition {
  readonly id: string;
  readonly language: Language;
  readonly kind: IntentKind;
  readonly speaker: SpeakerScope;
  /** How loud the alert is: `info` (default for intents), `warning` (default for escalations), `critical`. */
  readonly severity: Severity;
  /** Agent next-best-action text; may reference captured slots as `{order_number}` (see `renderPrompt`). */
  readonly prompt: string | undefined;
  /** Only matches starting in this call-time span count; `undefined`: the whole call. */
  readonly window: IntentWindow | undefined;
  /** Whether ASR-error tolerant matching applies (`fuzzy: false` in the file turns it off). */
  readonly fuzzy: boolean;
  /** Source patterns as written, for display and docs. */
  readonly patterns: readonly string[];
  /**
   * Every element sequence the patterns accept: words, `{slot}` and `*N`
   * strings (see `parseElement` in phrase.ts).
   */
  readonly sequences: readonly (readonly string[])[];
  /** Slots at least one phrase captures. */
  readonly slots: readonly SlotName[];
  /** `unless:` patterns as written: a match they overlap does not count ("where is my order number on the email"). */
  readonly unlessPatterns: readonly string[];
  /** Element sequences of the `unless` patterns (matched exactly, never approximately). */
  readonly unless: readonly (readonly string[])[];
  /**
   * `spot:` phrases for keyword spotters (docs/asr.md): word sequences, each
   * (part of) one of the intent's own phrase expansions. Empty: spotters use the shortest
   * expansions (`compileSpotPhrases`).
   */
  readonly spot: readonly (readonly string[])[];
  /**
   * A contact reason self-service could have answered (`avoidable: { channel: … }`):
   * the channel that would have (a track-and-trace page). Contact-reason reports count it as avoidable.
   */
  readonly avoidable: { readonly channel: string } | undefined;
  /** A contact reason that says the customer may leave (`churn_risk: true`): retention's business. */
  readonly churnRisk: boolean;
  /**
   * A contact reason that also adds to the call's escalation score (`escalates: true`): a formal
   * complaint alone stays under the first level, with another cue (a repeat contact) it reaches it.
   * Escalation cues (`kind: escalation`) always add to it.
   */
  readonly escalates: boolean;
  /** `file:line` of the definition, for log lines and errors. */
  readonly source: string;
}

/** A problem in a grammar file, located for the analyst who has to fix it. */
export interface GrammarProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export class GrammarError extends GatewayError {
  constructor(readonly problems: readonly GrammarProblem[]) {
    super('SGW_CONFIG', `invalid grammar:\n${problems.map((p) => `  ${p.file}:${p.line}: ${p.message}`).join('\n')}`);
  }
}

const ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const KINDS: readonly IntentKind[] = ['intent', 'escalation'];
const SPEAKERS: readonly SpeakerScope[] = ['customer', 'agent', 'either'];
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
const KNOWN_KEYS = new Set(['id', 'kind', 'speaker', 'severity', 'prompt', 'window', 'fuzzy', 'phrases', 'unless', 'spot', 'avoidable', 'churn_risk', 'escalates']);
const MAX_CHANNEL_LENGTH = 100;
const WINDOW_KEYS = new Set(['after', 'before']);
/** Ten hours: a window bound beyond any call is a typo (milliseconds written as seconds). */
const MAX_WINDOW_SECONDS = 36_000;

/**
 * All intent definitions per language, read from `<dir>/<language>/*.yaml`.
 * Loading validates everything and reports every problem at once.
 */
export class GrammarSet {
  private constructor(private readonly byLanguage: ReadonlyMap<Language, readonly IntentDefinition[]>) {}

  static async load(dir: string): Promise<GrammarSet> {
    return GrammarSet.fromSources(await GrammarSet.readSources(dir));
  }

  /**
   * Reads every `<dir>/<language>/*.yaml` (and `.yml`) file, in name order.
   * A missing language folder means no intents for that language.
   */
  static async readSources(dir: string): Promise<GrammarSource[]> {
    const sources: GrammarSource[] = [];
    for (const language of LANGUAGES) {
      const langDir = path.join(dir, language);
      let files: string[];
      try {
        files = (await readdir(langDir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
      } catch {
        files = [];
      }
      for (const file of files) {
        const full = path.join(langDir, file);
        sources.push({ file: path.relative(process.cwd(), full) || full, language, text: await readFile(full, 'utf8') });
      }
    }
    return sources;
  }

  /** Builds a set from file contents; every problem of every file is reported at once. */
  static fromSources(sources: readonly GrammarSource[]): GrammarSet {
    const problems: GrammarProblem[] = [];
    const byLanguage = new Map<Language, IntentDefinition[]>();
    for (const { file, language, text } of sources) {
      const list = byLanguage.get(language) ?? [];
      list.push(...parseGrammarFile(text, file, language, problems));
      byLanguage.set(language, list);
    }
    for (const definitions of byLanguage.values()) {
      const seen = new Map<string, string>();
      for (const def of definitions) {
        const earlier = seen.get(def.id);
        if (earlier === undefined) {
          seen.set(def.id, def.source);
          continue;
        }
        const [file, line] = splitSource(def.source);
        problems.push({ file, line, message: `intent '${def.id}' is already defined at ${earlier}` });
      }
    }
    if (problems.length > 0) throw new GrammarError(problems);
    return new GrammarSet(byLanguage);
  }

  /** The intents of one language, in file order. */
  intents(language: Language): readonly IntentDefinition[] {
    return this.byLanguage.get(language) ?? [];
  }

  /** Number of intents over all languages, for log lines. */
  get size(): number {
    let n = 0;
    for (const list of this.byLanguage.values()) n += list.length;
    return n;
  }
}

/**
 * Whether `words` match a contiguous stretch of `elements` (a compiled phrase),
 * a wildcard there standing for zero to N of the words.
 */
function containsRun(elements: readonly string[], words: readonly string[]): boolean {
  const matchFrom = (e: number, w: number): boolean => {
    if (w === words.length) return true;
    const element = elements[e];
    if (element === undefined) return false;
    const parsed = parseElement(element);
    if (parsed.kind === 'word') return parsed.text === words[w] && matchFrom(e + 1, w + 1);
    if (parsed.kind === 'slot') return false;
    for (let skip = 0; skip <= parsed.max && w + skip <= words.length; skip++) if (matchFrom(e + 1, w + skip)) return true;
    return false;
  };
  for (let start = 0; start < elements.length; start++) if (matchFrom(start, 0)) return true;
  return false;
}

function splitSource(source: string): [string, number] {
  const at = source.lastIndexOf(':');
  return [source.slice(0, at), Number(source.slice(at + 1))];
}

/** Parses one YAML grammar file, appending located problems instead of throwing. */
export function parseGrammarFile(text: string, file: string, language: Language, problems: GrammarProblem[]): IntentDefinition[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  for (const err of doc.errors) {
    const line = err.linePos?.[0]?.line ?? lineCounter.linePos(err.pos[0]).line;
    const message = err.message.split('\n')[0] ?? err.message;
    // The commonest slip: an unquoted phrase starting with '[' or '{' is YAML, not a phrase.
    const hint = /^\s*-\s*[[{]/.test(text.split('\n')[line - 1] ?? '') ? ' (a phrase that starts with "[" or "{" must be quoted)' : '';
    problems.push({ file, line, message: message + hint });
  }
  if (doc.errors.length > 0) return [];

  const root = doc.contents;
  if (!isMap(root)) {
    problems.push({ file, line: lineOf(root), message: 'expected a mapping with key "intents"' });
    return [];
  }
  const intentsNode = root.get('intents', true);
  if (!isSeq(intentsNode)) {
    problems.push({ file, line: lineOf(root), message: '"intents" must be a list' });
    return [];
  }

  const out: IntentDefinition[] = [];
  for (const item of intentsNode.items) {
    if (!isMap(item)) {
      problems.push({ file, line: lineOf(item as YamlNode), message: 'each intent must be a mapping' });
      continue;
    }
    const line = lineOf(item);
    const before = problems.length;
    const problem = (node: unknown, message: string): void => {
      problems.push({ file, line: lineOf(node as YamlNode) || line, message });
    };
    for (const pair of item.items) {
      const key = (pair.key as { value?: unknown } | null)?.value;
      if (typeof key !== 'string' || !KNOWN_KEYS.has(key)) problem(pair.key, `unknown key '${String(key)}'`);
    }
    const id = item.get('id');
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
      problem(item.get('id', true), `"id" must match ${ID_PATTERN.source}`);
    }
    const kind = item.get('kind') ?? 'intent';
    if (typeof kind !== 'string' || !KINDS.includes(kind as IntentKind)) {
      problem(item.get('kind', true), `"kind" must be one of ${KINDS.join(', ')}`);
    }
    const speaker = item.get('speaker') ?? 'customer';
    if (typeof speaker !== 'string' || !SPEAKERS.includes(speaker as SpeakerScope)) {
      problem(item.get('speaker', true), `"speaker" must be one of ${SPEAKERS.join(', ')}`);
    }
    const severity = item.get('severity') ?? (kind === 'escalation' ? 'warning' : 'info');
    if (typeof severity !== 'string' || !SEVERITIES.includes(severity as Severity)) {
      problem(item.get('severity', true), `"severity" must be one of ${SEVERITIES.join(', ')}`);
    }
    const fuzzy = item.get('fuzzy') ?? true;
    if (typeof fuzzy !== 'boolean') problem(item.get('fuzzy', true), '"fuzzy" must be true or false');
    const window = parseWindow(item.get('window', true), (node, message) => problem(node, message));

    const avoidable = parseAvoidable(item.get('avoidable', true), kind, (node, message) => problem(node, message));
    const churnRisk = item.get('churn_risk') ?? false;
    if (typeof churnRisk !== 'boolean') problem(item.get('churn_risk', true), '"churn_risk" must be true or false');
    else if (churnRisk && kind === 'escalation') problem(item.get('churn_risk', true), '"churn_risk" marks a contact reason; an escalation cue is not one (kind: intent)');
    const escalates = item.get('escalates') ?? false;
    if (typeof escalates !== 'boolean') problem(item.get('escalates', true), '"escalates" must be true or false');
    else if (escalates && kind === 'escalation') problem(item.get('escalates', true), '"escalates" marks a contact reason that also raises the escalation score; an escalation cue always does');

    const prompt = item.get('prompt');
    if (prompt !== undefined && typeof prompt !== 'string') problem(item.get('prompt', true), '"prompt" must be a string');

    const beforePhrases = problems.length;
    const phrases = compilePhrases(item.get('phrases', true), true, '"phrases" must be a non-empty list', problem);
    // Slot checks on the prompt need every phrase compiled.
    const phrasesComplete = phrases !== undefined && problems.length === beforePhrases;
    if (phrases === undefined) problem(item.get('phrases', true) ?? item, '"phrases" must be a non-empty list');
    const unless = compilePhrases(item.get('unless', true), false, '"unless" must be a list of phrases', problem);
    const spot = compilePhrases(item.get('spot', true), false, '"spot" must be a list of phrases', problem);
    const spotNode = item.get('spot', true);
    if (spot !== undefined && phrasesComplete) {
      // A spotted phrase is confirmed by this intent's matcher, so it must be (part of) one of its phrases.
      const own = phrases?.sequences ?? [];
      for (const seq of spot.sequences) {
        if (seq.some((el) => parseElement(el).kind !== 'word')) problem(spotNode, `spot phrase "${seq.join(' ')}" has a slot or wildcard; spotters hear plain words only`);
        else if (seq.length < 2) problem(spotNode, `spot phrase "${seq.join(' ')}" is one word; spotters need two at least`);
        else if (!own.some((elements) => containsRun(elements, seq))) problem(spotNode, `spot phrase "${seq.join(' ')}" is not part of any of this intent's phrases`);
      }
    }
    const patterns = phrases?.patterns ?? [];
    const sequences = phrases?.sequences ?? [];
    const slots = phrases?.slots ?? new Set<SlotName>();
    if (typeof prompt === 'string') {
      // A prompt naming a slot no phrase captures would always show a hole.
      for (const ref of promptSlots(prompt)) {
        if (!isSlotName(ref)) {
          problem(item.get('prompt', true), `prompt uses unknown slot '{${ref}}' (known: ${SLOT_NAMES.map((n) => `{${n}}`).join(', ')})`);
        } else if (phrasesComplete && !slots.has(ref)) {
          problem(item.get('prompt', true), `prompt uses '{${ref}}' but no phrase of this intent captures it`);
        }
      }
      if (/[{}]/.test(prompt.replace(/\{[^{}]*\}/g, ''))) problem(item.get('prompt', true), 'prompt has an unmatched brace');
    }
    if (problems.length > before) continue;
    out.push({
      id: id as string,
      language,
      kind: kind as IntentKind,
      speaker: speaker as SpeakerScope,
      severity: severity as Severity,
      prompt: prompt as string | undefined,
      window,
      fuzzy: fuzzy as boolean,
      patterns,
      sequences,
      slots: [...slots],
      unlessPatterns: unless?.patterns ?? [],
      unless: unless?.sequences ?? [],
      spot: spot?.sequences ?? [],
      avoidable,
      churnRisk: churnRisk === true,
      escalates: escalates === true,
      source: `${file}:${line}`,
    });
  }
  return out;
}

/**
 * Compiles a list of phrase patterns, reporting each broken one. Returns
 * `undefined` when the node is absent or not a (non-empty, if `required`)
 * list; a wrong type is reported here, absence by the caller.
 */
function compilePhrases(
  node: unknown,
  required: boolean,
  typeMessage: string,
  problem: (node: unknown, message: string) => void,
): { patterns: string[]; sequences: string[][]; slots: Set<SlotName> } | undefined {
  if (node === undefined || node === null) return undefined;
  if (!isSeq(node) || (required && node.items.length === 0)) {
    if (!required) problem(node, typeMessage);
    return undefined;
  }
  const out = { patterns: [] as string[], sequences: [] as string[][], slots: new Set<SlotName>() };
  for (const phraseNode of node.items) {
    const value = (phraseNode as { value?: unknown }).value;
    if (typeof value !== 'string') {
      // An unquoted phrase starting with '[' or '{' is a YAML list or mapping.
      problem(phraseNode, isSeq(phraseNode) || isMap(phraseNode) ? 'each phrase must be a string: quote a phrase that starts with "[" or "{"' : 'each phrase must be a string');
      continue;
    }
    try {
      const expanded = expandPhrase(value);
      out.sequences.push(...expanded);
      out.patterns.push(value);
      for (const seq of expanded) {
        for (const el of seq) {
          const element = parseElement(el);
          if (element.kind === 'slot') out.slots.add(element.name);
        }
      }
    } catch (err) {
      if (!(err instanceof PhraseSyntaxError)) throw err;
      problem(phraseNode, `phrase "${value}": ${err.message} (column ${err.column + 1})`);
    }
  }
  return out;
}

/** Slot names a prompt references as `{name}`. */
export function promptSlots(prompt: string): string[] {
  return [...prompt.matchAll(/\{([^{}]*)\}/g)].map((m) => (m[1] ?? '').trim());
}

/** `avoidable: { channel: <self-service channel> }`, on contact reasons only. */
function parseAvoidable(node: unknown, kind: unknown, problem: (node: unknown, message: string) => void): { channel: string } | undefined {
  if (node === undefined || node === null) return undefined;
  const shape = '"avoidable" must be a mapping such as { channel: track-and-trace page } (the self-service channel that could have answered it)';
  if (!isMap(node)) {
    problem(node, shape);
    return undefined;
  }
  for (const pair of node.items) {
    const key = (pair.key as { value?: unknown } | null)?.value;
    if (key !== 'channel') {
      problem(pair.key, `unknown avoidable key '${String(key)}' (use channel)`);
      return undefined;
    }
  }
  const channel: unknown = node.get('channel');
  if (typeof channel !== 'string' || channel.trim() === '' || channel.length > MAX_CHANNEL_LENGTH) {
    problem(node.get('channel', true) ?? node, `${shape}; channel: 1 to ${MAX_CHANNEL_LENGTH} characters`);
    return undefined;
  }
  if (kind === 'escalation') {
    problem(node, '"avoidable" marks a contact reason; an escalation cue is not one (kind: intent)');
    return undefined;
  }
  return { channel: channel.trim() };
}

function parseWindow(node: unknown, problem: (node: unknown, message: string) => void): IntentWindow | undefined {
  if (node === undefined || node === null) return undefined;
  if (!isMap(node)) {
    problem(node, '"window" must be a mapping such as { after: 0, before: 120 } (seconds of call time)');
    return undefined;
  }
  let ok = true;
  for (const pair of node.items) {
    const key = (pair.key as { value?: unknown } | null)?.value;
    if (typeof key !== 'string' || !WINDOW_KEYS.has(key)) {
      problem(pair.key, `unknown window key '${String(key)}' (use after, before)`);
      ok = false;
    }
  }
  const bound = (key: 'after' | 'before'): number | undefined => {
    const value: unknown = node.get(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_WINDOW_SECONDS) {
      problem(node.get(key, true), `window "${key}" must be a number of seconds from 0 to ${MAX_WINDOW_SECONDS}`);
      ok = false;
      return undefined;
    }
    return value;
  };
  const after = bound('after');
  const before = bound('before');
  if (!ok) return undefined;
  if (after === undefined && before === undefined) {
    problem(node, '"window" needs "after", "before" or both');
    return undefined;
  }
  if (after !== undefined && before !== undefined && before <= after) {
    problem(node, `window "before" (${before}) must be later than "after" (${after})`);
    return undefined;
  }
  return { afterMs: (after ?? 0) * 1000, beforeMs: before === undefined ? Infinity : before * 1000 };
}
