import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, isMap, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { GatewayError } from '../../errors.js';
import { LANGUAGES, type Language } from '../../language.js';
import { PhraseSyntaxError, expandPhrase } from './phrase.js';

export type IntentKind = 'intent' | 'escalation';
export type SpeakerScope = 'customer' | 'agent' | 'either';

/** One intent of a grammar file, compiled. */
export interface IntentDefinition {
  readonly id: string;
  readonly language: Language;
  readonly kind: IntentKind;
  readonly speaker: SpeakerScope;
  readonly prompt: string | undefined;
  /** Source patterns as written, for display and docs. */
  readonly patterns: readonly string[];
  /** Every token sequence the patterns accept. */
  readonly sequences: readonly (readonly string[])[];
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
const KNOWN_KEYS = new Set(['id', 'kind', 'speaker', 'prompt', 'phrases']);

/**
 * All intent definitions per language, read from `<dir>/<language>/*.yaml`.
 * Loading validates everything and reports every problem at once.
 */
export class GrammarSet {
  private constructor(private readonly byLanguage: ReadonlyMap<Language, readonly IntentDefinition[]>) {}

  static async load(dir: string): Promise<GrammarSet> {
    const sources: { file: string; language: Language; text: string }[] = [];
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
    return GrammarSet.fromSources(sources);
  }

  /** Builds a set from file contents; every problem of every file is reported at once. */
  static fromSources(sources: readonly { file: string; language: Language; text: string }[]): GrammarSet {
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

  intents(language: Language): readonly IntentDefinition[] {
    return this.byLanguage.get(language) ?? [];
  }
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
    problems.push({ file, line: err.linePos?.[0]?.line ?? 1, message: err.message.split('\n')[0] ?? err.message });
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
    const prompt = item.get('prompt');
    if (prompt !== undefined && typeof prompt !== 'string') problem(item.get('prompt', true), '"prompt" must be a string');

    const phrasesNode = item.get('phrases', true);
    const patterns: string[] = [];
    const sequences: string[][] = [];
    if (!isSeq(phrasesNode) || phrasesNode.items.length === 0) {
      problem(phrasesNode ?? item, '"phrases" must be a non-empty list');
    } else {
      for (const phraseNode of phrasesNode.items) {
        const value = (phraseNode as { value?: unknown }).value;
        if (typeof value !== 'string') {
          problem(phraseNode, 'each phrase must be a string');
          continue;
        }
        try {
          sequences.push(...expandPhrase(value));
          patterns.push(value);
        } catch (err) {
          if (!(err instanceof PhraseSyntaxError)) throw err;
          problem(phraseNode, `phrase "${value}": ${err.message} (column ${err.column + 1})`);
        }
      }
    }
    if (problems.length > before) continue;
    out.push({
      id: id as string,
      language,
      kind: kind as IntentKind,
      speaker: speaker as SpeakerScope,
      prompt: prompt as string | undefined,
      patterns,
      sequences,
      source: `${file}:${line}`,
    });
  }
  return out;
}
