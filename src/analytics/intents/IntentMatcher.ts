import type { RecognitionResult } from '../../asr/types.js';
import type { Language } from '../../language.js';
import { parseSlotAt } from '../entities/slots.js';
import type { IntentDefinition } from '../grammar/GrammarSet.js';
import { parseElement, tokenize, type SlotName } from '../grammar/phrase.js';
import { FuzzyVocabulary, HOMOPHONES, PENALTY_HOMOPHONE, isContentWord } from './fuzzy.js';
import { UtteranceContext, isClauseBoundary, isSubjectPronoun } from './negation.js';
import { compileSpotPhrases } from '../grammar/spotPhrases.js';
import { PhoneticMatcher } from '../phonetic/PhoneticMatcher.js';
import type { PhoneticLexicon } from '../phonetic/PhoneticLexicon.js';
import type { IntentClassifier } from '../classifier/IntentClassifier.js';

export type Speaker = 'customer' | 'agent';

export type MatchEvidence = 'exact' | 'approximate' | 'phonetic' | 'alternative' | 'classifier';

/** A transcript token with the time span of the recognised word it came from. */
export interface TimedToken {
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly confidence: number | undefined;
}

/** An intent found in a transcript. */
export interface IntentMatch {
  readonly intent: IntentDefinition;
  /** The transcript words that matched, as recognised. */
  readonly text: string;
  /** Times of the matched words, on the timeline of the tokens given (stream or call time). */
  readonly startMs: number;
  readonly endMs: number;
  /**
   * Mean ASR word confidence over the matched words where the engine reports
   * one (1 otherwise), lowered for each word matched only approximately.
   */
  readonly confidence: number;
  /** Slot values captured by the phrase, e.g. `{ order_number: '4567' }`. */
  readonly slots: Readonly<Record<string, string>>;
  /** Whether a word matched only approximately (a likely ASR error): `evidence` is not `exact`. */
  readonly fuzzy: boolean;
  /**
   * How the phrase was found: `exact` words; `approximate`, a misheard word
   * tolerated (fuzzy.ts); `phonetic`, the words sound like the phrase
   * (PhoneticMatcher); `alternative`, in a lower-ranked hypothesis of the
   * recogniser's N-best list (`alternative` is its rank); `classifier`, no
   * phrase matched but the intent classifier reads the whole final utterance
   * as this intent (its probability is the confidence).
   */
  readonly evidence: MatchEvidence;
  /** Rank in the recogniser's N-best list of the hypothesis the match was found in; 0 the best. */
  readonly alternative: number;
  /** The intent's prompt with captured slots filled in (`renderPrompt`). */
  readonly prompt: string | undefined;
}

/** Tuning of a matcher; the defaults are what the evaluation corpus was measured with. */
export interface MatcherOptions {
  /** Language of the grammar (slot parsing, negation cues); default: the first intent's. */
  readonly language?: Language;
  /** Whether approximate matching is on at all; default true. */
  readonly fuzzy?: boolean;
  /** A match with an approximate word needs at least this confidence; default 0.5. */
  readonly minFuzzyConfidence?: number;
  /**
   * Pronunciations for matching key phrases by sound on final hypotheses
   * (PhoneticMatcher); none: by spelling only.
   */
  readonly phonetic?: PhoneticLexicon;
  /** Largest normalised phoneme distance of a phonetic match; default {@link DEFAULT_PHONETIC_THRESHOLD}. */
  readonly phoneticThreshold?: number;
  /** Reads whole final customer utterances for intents no phrase matched (`classify`); none: grammars only. */
  readonly classifier?: IntentClassifier;
}

/** Tuned on the dev split (docs/analytics.md#evaluation). */
export const DEFAULT_PHONETIC_THRESHOLD = 0.25;
/** Largest distance of one word group of a phonetic match (PhoneticMatcher). */
const PHONETIC_GROUP_THRESHOLD = 0.35;

/** Per-call options of `IntentMatcher.match`. */
export interface MatchOptions {
  /**
   * Whether the tokens are a final hypothesis. On a partial one a Dutch match
   * at the very end is held back until the words after it (a possible "niet")
   * are known. Default true.
   */
  readonly final?: boolean;
  /** Added to token times to get call time, for intents with a `window`; default 0. */
  readonly callTimeOffsetMs?: number;
  /** Whether a final is also matched by sound (when the matcher has a lexicon); default true. */
  readonly phonetic?: boolean;
  /** Whether the words come from a recogniser (not a pushed transcript): the classifier then asks for its model's `recognisedThreshold`. */
  readonly recognised?: boolean;
}

/** At most this many approximate words per match: two misheard words are a different sentence. */
const MAX_FUZZY_WORDS = 1;
/** Apostrophe-less forms that are words of their own ("well" is not "we'll"). */
const NOT_CONTRACTIONS = new Set(['well', 'ill', 'were', 'hell', 'shell', 'id', 'shed', 'wed', 'its', 'cant', 'wont', 'lets']);

/**
 * A node of the phrase trie. The grammars expand to a few hundred thousand
 * sequences, so a node allocates nothing it does not use: the fields start
 * as shared empty values and get their own on the first write, and a node
 * that only one intent passes through shares that intent's one-element set.
 * (A fresh Map, Set and arrays per node cost 224 MB of heap for en-US; this, 43 MB.)
 */
/** A node's children by word: all the matcher asks of them. */
interface Children {
  readonly size: number;
  get(word: string): TrieNode | undefined;
}

/** The one child of a node on a chain (most nodes): a Map would cost ~5x the memory. */
class OnlyChild implements Children {
  readonly size = 1;
  constructor(
    readonly word: string,
    readonly child: TrieNode,
  ) {}

  get(word: string): TrieNode | undefined {
    return word === this.word ? this.child : undefined;
  }
}

interface TrieNode {
  next: Children;
  slots: readonly (readonly [SlotName, TrieNode])[];
  gaps: readonly (readonly [number, TrieNode])[];
  /** Intents whose sequence ends at this node. */
  ends: readonly IntentDefinition[];
  /** Intents with a sequence through this node (for phrases cut off by the end of a partial hypothesis). */
  through: ReadonlySet<IntentDefinition>;
}

const NO_CHILDREN: Children = new Map<string, TrieNode>();
const NO_INTENTS: ReadonlySet<IntentDefinition> = new Set();
const NONE: readonly never[] = Object.freeze([]);
const newNode = (): TrieNode => ({ next: NO_CHILDREN, slots: NONE, gaps: NONE, ends: NONE, through: NO_INTENTS });

/** Builds a trie; each intent's one-element `through` set and `ends` list are shared by the nodes that have only it. */
class TrieBuilder {
  private readonly only = new Map<IntentDefinition, ReadonlySet<IntentDefinition>>();
  private readonly ends = new Map<IntentDefinition, readonly IntentDefinition[]>();

  add(root: TrieNode, sequence: readonly string[], intent: IntentDefinition, words: Set<string>): void {
    let node = root;
    for (const el of sequence) {
      const element = parseElement(el);
      let child: TrieNode | undefined;
      if (element.kind === 'word') {
        words.add(element.text);
        child = node.next.get(element.text);
        if (child === undefined) {
          child = newNode();
          const { next } = node;
          if (next === NO_CHILDREN) node.next = new OnlyChild(element.text, child);
          else if (next instanceof OnlyChild) node.next = new Map([[next.word, next.child], [element.text, child]]);
          else (next as Map<string, TrieNode>).set(element.text, child);
        }
      } else if (element.kind === 'slot') {
        child = node.slots.find(([name]) => name === element.name)?.[1];
        if (child === undefined) node.slots = [...node.slots, [element.name, (child = newNode())]];
      } else {
        child = node.gaps.find(([max]) => max === element.max)?.[1];
        if (child === undefined) node.gaps = [...node.gaps, [element.max, (child = newNode())]];
      }
      node = child;
      if (!node.through.has(intent)) node.through = node.through.size === 0 ? this.onlyThrough(intent) : new Set([...node.through, intent]);
    }
    if (!node.ends.includes(intent)) node.ends = node.ends.length === 0 ? this.onlyEnd(intent) : [...node.ends, intent];
  }

  private onlyEnd(intent: IntentDefinition): readonly IntentDefinition[] {
    let list = this.ends.get(intent);
    if (list === undefined) this.ends.set(intent, (list = [intent]));
    return list;
  }

  private onlyThrough(intent: IntentDefinition): ReadonlySet<IntentDefinition> {
    let set = this.only.get(intent);
    if (set === undefined) this.only.set(intent, (set = new Set([intent])));
    return set;
  }
}

/** An `unless` phrase that the hypothesis ends in the middle of: the next words may complete it. */
interface PendingVeto {
  readonly start: number;
  readonly intents: ReadonlySet<IntentDefinition>;
  /** Tokens its wildcards took so far. */
  readonly free: readonly number[];
}

interface Candidate {
  readonly intent: IntentDefinition;
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
  readonly penalty: number;
  readonly fuzzy: boolean;
  readonly slots: Readonly<Record<string, string>>;
  readonly free: readonly number[];
}

interface Walk {
  readonly start: number;
  fuzzyWords: number;
  exactContent: number;
  penalty: number;
  slots: Record<string, string>;
  free: number[];
}

/**
 * Finds grammar phrases in a token stream. All phrases of a language share
 * one trie of words, slots and wildcards, so matching costs one walk per
 * start position whatever the number of intents. Approximate words, slots
 * and negation are checked only where a walk gets that far.
 */
export class IntentMatcher {
  readonly language: Language;
  private readonly root = newNode();
  /** `unless` phrases, ending at the intents they veto. */
  private readonly vetoRoot = newNode();
  private readonly vocabulary: FuzzyVocabulary;
  /** Apostrophe-less token -> grammar words with the apostrophe ("dont" -> "don't"). */
  private readonly contractions = new Map<string, string[]>();
  private readonly fuzzyEnabled: boolean;
  private readonly minFuzzyConfidence: number;
  /** Key phrases matched by sound, and the intents each phrase belongs to. */
  private readonly phonetic: { readonly matcher: PhoneticMatcher; readonly owners: ReadonlyMap<string, ReadonlySet<string>> } | undefined;
  private readonly classifier: IntentClassifier | undefined;
  private readonly byId: ReadonlyMap<string, IntentDefinition>;

  constructor(
    readonly intents: readonly IntentDefinition[],
    options: MatcherOptions = {},
  ) {
    this.language = options.language ?? intents[0]?.language ?? 'en-US';
    this.fuzzyEnabled = options.fuzzy ?? true;
    this.minFuzzyConfidence = options.minFuzzyConfidence ?? 0.5;
    this.classifier = options.classifier;
    this.byId = new Map(intents.map((i) => [i.id, i]));
    const words = new Set<string>();
    // Exclusions match exactly: their words are not targets for approximate matching.
    const vetoWords = new Set<string>();
    const trie = new TrieBuilder();
    for (const intent of intents) {
      for (const sequence of intent.sequences) trie.add(this.root, sequence, intent, words);
      for (const sequence of intent.unless) trie.add(this.vetoRoot, sequence, intent, vetoWords);
    }
    for (const word of new Set([...words, ...vetoWords])) {
      if (!word.includes("'")) continue;
      const bare = word.replace(/'/g, '');
      if (NOT_CONTRACTIONS.has(bare)) continue;
      this.contractions.set(bare, [...(this.contractions.get(bare) ?? []), word]);
    }
    this.vocabulary = new FuzzyVocabulary(words, this.language);
    if (options.phonetic !== undefined) {
      // The key phrases are the spotter's: each intent's most common wordings (docs/grammars.md `spot`).
      const phrases = compileSpotPhrases(intents);
      const matcher = new PhoneticMatcher(
        options.phonetic,
        phrases.map((p) => p.text.split(' ')),
        { language: this.language, threshold: options.phoneticThreshold ?? DEFAULT_PHONETIC_THRESHOLD, groupThreshold: PHONETIC_GROUP_THRESHOLD },
      );
      this.phonetic = matcher.size === 0 ? undefined : { matcher, owners: new Map(phrases.map((p) => [p.text, new Set(p.intents)])) };
    }
  }

  /** Whether key phrases are also matched by sound. */
  get phoneticMatching(): boolean {
    return this.phonetic !== undefined;
  }

  /**
   * Every intent found in `tokens` that `speaker` may raise, each once, at
   * the occurrence with the most captured slots (then the earliest, exact
   * before approximate, longest) that is not negated, hypothetical, excluded
   * by an `unless` phrase or outside the intent's window.
   */
  match(tokens: readonly TimedToken[], speaker: Speaker, options: MatchOptions = {}): IntentMatch[] {
    const matches = this.matchWords(tokens, speaker, options);
    // By sound on finals only: partials are still changing, and a final follows each.
    if (this.phonetic === undefined || options.final === false || options.phonetic === false) return matches;
    return this.matchSounds(tokens, speaker, options, matches);
  }

  /**
   * The intents the classifier reads in a final utterance of `speaker`, as
   * matches spanning the utterance. Customers only: the models are trained on
   * what customers say. An intent must exist in the grammars (its kind,
   * severity and prompt come from there) and lie in its window; negation is
   * in the model's features, as the labelled negative examples taught it.
   * Plans given up, reported speech, policy questions and imagined cases
   * are taken out before it reads (`UtteranceContext.freeText`); in a
   * question about a consequence it finds no contact reason.
   */
  classify(tokens: readonly TimedToken[], speaker: Speaker, options: MatchOptions = {}): IntentMatch[] {
    const first = tokens[0];
    const last = tokens[tokens.length - 1];
    if (this.classifier === undefined || speaker !== 'customer' || first === undefined || last === undefined) return [];
    const text = tokens.map((t) => t.text).join(' ');
    const at = (options.callTimeOffsetMs ?? 0) + first.startMs;
    const matches: IntentMatch[] = [];
    const threshold = options.recognised === true ? this.classifier.recognisedThreshold : this.classifier.threshold;
    const context = new UtteranceContext(tokens.map((t) => t.text), this.language);
    const free = context.freeText();
    // A question about what a condition would lead to requests nothing; a threat in it still counts.
    const asksAboutConsequence = context.asksAboutConsequence();
    for (const { intent: id, probability } of free === '' ? [] : this.classifier.classify(free, threshold)) {
      const intent = this.byId.get(id);
      if (intent === undefined || intent.speaker === 'agent') continue;
      if (asksAboutConsequence && intent.kind === 'intent') continue;
      if (intent.window !== undefined && (at < intent.window.afterMs || at >= intent.window.beforeMs)) continue;
      matches.push({
        intent,
        text,
        startMs: first.startMs,
        endMs: last.endMs,
        confidence: probability,
        slots: {},
        fuzzy: true,
        evidence: 'classifier',
        alternative: 0,
        prompt: intent.prompt === undefined ? undefined : renderPrompt(intent.prompt, {}),
      });
    }
    return matches;
  }

  /**
   * Adds the intents whose key phrases the transcript sounds like but does
   * not spell: each candidate run is replaced by the phrase's words and the
   * result matched as usual, so the phrase still has to fit its context
   * (negation, hypotheticals, speaker, `unless`, window). Its confidence is
   * lowered by the phoneme distance.
   */
  private matchSounds(tokens: readonly TimedToken[], speaker: Speaker, options: MatchOptions, found: IntentMatch[]): IntentMatch[] {
    const phonetic = this.phonetic;
    if (phonetic === undefined) return found;
    const have = new Set(found.map((m) => m.intent.id));
    const out = [...found];
    const texts = tokens.map((t) => t.text);
    let heardVetoes: Candidate[] | undefined;
    for (const candidate of phonetic.matcher.find(texts)) {
      const owners = phonetic.owners.get(candidate.words.join(' '));
      if (owners === undefined || [...owners].every((id) => have.has(id))) continue;
      // Exclusions are about the words said: "abonnement omzetten" stays excluded though it sounds like "opzeggen".
      heardVetoes ??= this.vetoes(texts, speaker);
      const vetoed = (id: string): boolean => heardVetoes?.some((v) => v.intent.id === id && v.start <= candidate.end && candidate.start <= v.end) === true;
      const first = tokens[candidate.start] as TimedToken;
      const last = tokens[candidate.end] as TimedToken;
      const step = (last.endMs - first.startMs) / candidate.words.length;
      const phrase: TimedToken[] = candidate.words.map((text, k) => ({ text, startMs: first.startMs + k * step, endMs: first.startMs + (k + 1) * step, confidence: undefined }));
      const rewritten = [...tokens.slice(0, candidate.start), ...phrase, ...tokens.slice(candidate.end + 1)];
      for (const match of this.matchWords(rewritten, speaker, options)) {
        if (!owners.has(match.intent.id) || have.has(match.intent.id) || vetoed(match.intent.id)) continue;
        if (match.endMs <= first.startMs || match.startMs >= last.endMs) continue;
        have.add(match.intent.id);
        const heard = tokens.filter((t) => t.endMs > match.startMs && t.startMs < match.endMs);
        out.push({ ...match, text: heard.map((t) => t.text).join(' '), confidence: match.confidence * (1 - candidate.distance), fuzzy: true, evidence: 'phonetic' });
      }
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /** Where the `unless` phrases match `texts`, exactly. */
  private vetoes(texts: readonly string[], speaker: Speaker): Candidate[] {
    if (this.vetoRoot.next.size === 0 && this.vetoRoot.slots.length === 0) return [];
    return this.walk(this.vetoRoot, texts, speaker, (name, i) => parseSlotAt(name, texts, i, this.language), false);
  }

  /** The intents the words of `tokens` spell (exactly or with a tolerated slip). */
  private matchWords(tokens: readonly TimedToken[], speaker: Speaker, options: MatchOptions): IntentMatch[] {
    if (tokens.length === 0) return [];
    const texts = tokens.map((t) => t.text);
    const slotCache = new Map<string, { end: number; value: string } | null>();
    const slotAt = (name: SlotName, i: number): { end: number; value: string } | undefined => {
      const key = `${name}@${i}`;
      let hit = slotCache.get(key);
      if (hit === undefined) {
        hit = parseSlotAt(name, texts, i, this.language) ?? null;
        slotCache.set(key, hit);
      }
      return hit ?? undefined;
    };
    const candidates = this.walk(this.root, texts, speaker, slotAt, true);
    if (candidates.length === 0) return [];
    const pending: PendingVeto[] = [];
    const vetoes = this.vetoRoot.next.size > 0 || this.vetoRoot.slots.length > 0 ? this.walk(this.vetoRoot, texts, speaker, slotAt, false, pending) : [];
    return this.select(candidates, vetoes, pending, tokens, texts, options);
  }

  /** Every way the phrases of the trie at `root` match `texts` (one walk per start position). */
  private walk(
    root: TrieNode,
    texts: readonly string[],
    speaker: Speaker,
    slotAt: (name: SlotName, i: number) => { end: number; value: string } | undefined,
    approximate: boolean,
    pending?: PendingVeto[],
  ): Candidate[] {
    const candidates: Candidate[] = [];
    const visit = (node: TrieNode, i: number, walk: Walk): void => {
      if (pending !== undefined && i >= texts.length && (node.next.size > 0 || node.slots.length > 0)) {
        pending.push({ start: walk.start, intents: node.through, free: [...walk.free] });
      }
      for (const intent of node.ends) {
        if (intent.speaker !== 'either' && intent.speaker !== speaker) continue;
        const fuzzy = walk.fuzzyWords > 0;
        // An approximate match must rest on at least one exactly heard content word.
        if (fuzzy && (walk.exactContent === 0 || !intent.fuzzy)) continue;
        candidates.push({ intent, start: walk.start, end: i - 1, penalty: walk.penalty, fuzzy, slots: { ...walk.slots }, free: [...walk.free] });
      }
      if (i < texts.length) this.stepWords(node, i, texts, walk, visit, approximate);
      for (const [name, child] of node.slots) {
        const slot = slotAt(name, i);
        if (slot === undefined || slot.end <= i) continue;
        const previous = walk.slots[name];
        walk.slots[name] = slot.value;
        visit(child, slot.end, walk);
        if (previous === undefined) delete walk.slots[name];
        else walk.slots[name] = previous;
      }
      for (const [max, child] of node.gaps) {
        const mark = walk.free.length;
        for (let k = 0; k <= max && i + k <= texts.length; k++) {
          if (k > 0) {
            // A wildcard stays inside its clause: "my order is fine and | cancel ..." is two statements.
            if (isClauseBoundary(texts[i + k - 1] as string, this.language)) break;
            walk.free.push(i + k - 1);
          }
          visit(child, i + k, walk);
        }
        walk.free.length = mark;
      }
    };
    for (let start = 0; start < texts.length; start++) {
      this.stepWords(root, start, texts, { start, fuzzyWords: 0, exactContent: 0, penalty: 1, slots: {}, free: [] }, visit, approximate);
      for (const [name, child] of root.slots) {
        const slot = slotAt(name, start);
        if (slot !== undefined) visit(child, slot.end, { start, fuzzyWords: 0, exactContent: 0, penalty: 1, slots: { [name]: slot.value }, free: [] });
      }
    }
    return candidates;
  }

  /** Follows every word edge of `node` that tokens from `i` can take: exact, contraction, split word, approximate. */
  private stepWords(
    node: TrieNode,
    i: number,
    texts: readonly string[],
    walk: Walk,
    visit: (node: TrieNode, i: number, walk: Walk) => void,
    allowApproximate: boolean,
  ): void {
    if (node.next.size === 0) return;
    const token = texts[i] as string;
    const exact = (word: string, consumed: number): void => {
      const child = node.next.get(word);
      if (child === undefined) return;
      const content = isContentWord(word, this.language) ? 1 : 0;
      walk.exactContent += content;
      visit(child, i + consumed, walk);
      walk.exactContent -= content;
    };
    const approximate = (word: string, penalty: number, consumed: number): void => {
      const child = node.next.get(word);
      if (child === undefined) return;
      walk.fuzzyWords++;
      const before = walk.penalty;
      walk.penalty *= penalty;
      visit(child, i + consumed, walk);
      walk.penalty = before;
      walk.fuzzyWords--;
    };

    exact(token, 1);
    for (const word of this.contractions.get(token) ?? []) exact(word, 1);
    const nextToken = texts[i + 1];
    // ASR engines split long words they do not know as one ("op zeggen", "super visor").
    const joined = nextToken === undefined ? undefined : token + nextToken;
    if (joined !== undefined) exact(joined, 2);
    if (!allowApproximate || !this.fuzzyEnabled || walk.fuzzyWords >= MAX_FUZZY_WORDS) return;
    for (const word of HOMOPHONES[this.language].get(token) ?? []) approximate(word, PENALTY_HOMOPHONE, 1);
    for (const hit of this.vocabulary.neighbours(token)) approximate(hit.word, hit.penalty, 1);
    // A split word misheard on top ("can sell" for "cancel"): one edit or the same sound, and never by
    // gluing a conjunction or a subject onto the next word ("en opzeggen" is not "opzeggen", "phone i" not "phoned").
    if (joined !== undefined && joined.length >= 6 && this.mayGlue(token) && this.mayGlue(nextToken as string)) {
      for (const hit of this.vocabulary.neighbours(joined)) if (hit.kind !== 'edits') approximate(hit.word, hit.penalty * 0.95, 2);
    }
  }

  /** Whether `token` may be half of a word the recogniser split: not a conjunction, not a subject. */
  private mayGlue(token: string): boolean {
    return !isClauseBoundary(token, this.language) && !isSubjectPronoun(token, this.language);
  }

  private select(
    candidates: readonly Candidate[],
    vetoes: readonly Candidate[],
    pending: readonly PendingVeto[],
    tokens: readonly TimedToken[],
    texts: readonly string[],
    options: MatchOptions,
  ): IntentMatch[] {
    const context = new UtteranceContext(texts, this.language);
    const final = options.final ?? true;
    const offset = options.callTimeOffsetMs ?? 0;
    const best = new Map<IntentDefinition, { candidate: Candidate; confidence: number }>();
    for (const candidate of candidates) {
      const { intent, start, end } = candidate;
      if (intent.window !== undefined) {
        const at = offset + (tokens[start] as TimedToken).startMs;
        if (at < intent.window.afterMs || at >= intent.window.beforeMs) continue;
      }
      const confidence = meanConfidence(tokens, start, end) * candidate.penalty;
      if (candidate.fuzzy && confidence < this.minFuzzyConfidence) continue;
      if (vetoes.some((v) => v.intent === intent && v.start <= end && candidate.start <= v.end)) continue;
      if (context.suppression(candidate, intent.kind) !== undefined) continue;
      if (!final && (context.openEnded(candidate, intent.kind) || pending.some((p) => p.intents.has(intent) && p.start <= end && !swallows(p, candidate)))) continue;
      const current = best.get(intent);
      if (current === undefined || better(candidate, current.candidate)) best.set(intent, { candidate, confidence });
    }
    const matches: IntentMatch[] = [];
    for (const { candidate, confidence } of best.values()) {
      const span = tokens.slice(candidate.start, candidate.end + 1);
      matches.push({
        intent: candidate.intent,
        text: span.map((t) => t.text).join(' '),
        startMs: (span[0] as TimedToken).startMs,
        endMs: (span[span.length - 1] as TimedToken).endMs,
        confidence,
        slots: candidate.slots,
        fuzzy: candidate.fuzzy,
        evidence: candidate.fuzzy ? 'approximate' : 'exact',
        alternative: 0,
        prompt: candidate.intent.prompt === undefined ? undefined : renderPrompt(candidate.intent.prompt, candidate.slots),
      });
    }
    return matches.sort((a, b) => a.startMs - b.startMs);
  }
}

/**
 * Whether a pending exclusion's wildcard has already taken a word the
 * candidate's phrase names: "cancel my order" is not held back for "cancel my
 * * subscription", whose wildcard would have to swallow "order".
 */
function swallows(veto: PendingVeto, candidate: Candidate): boolean {
  return veto.free.some((i) => i >= candidate.start && i <= candidate.end && !candidate.free.includes(i));
}

/**
 * More captured slots first (the values are what the prompt needs), then
 * the earliest start, then exact over approximate, then the longest.
 */
function better(a: Candidate, b: Candidate): boolean {
  const slotsA = Object.keys(a.slots).length;
  const slotsB = Object.keys(b.slots).length;
  if (slotsA !== slotsB) return slotsA > slotsB;
  if (a.start !== b.start) return a.start < b.start;
  if (a.fuzzy !== b.fuzzy) return !a.fuzzy;
  return a.end > b.end;
}

function meanConfidence(tokens: readonly TimedToken[], start: number, end: number): number {
  let sum = 0;
  let n = 0;
  for (let i = start; i <= end; i++) {
    const c = tokens[i]?.confidence;
    if (c !== undefined) {
      sum += c;
      n++;
    }
  }
  return n > 0 ? sum / n : 1;
}

/**
 * Fills `{slot}` references of a prompt. A slot the match did not capture
 * is left out, with the space before it, so "Cancel order {order_number}?"
 * reads "Cancel order?" rather than showing a placeholder to the agent.
 */
export function renderPrompt(template: string, slots: Readonly<Record<string, string>>): string {
  return template
    .replace(/\s*\{([^{}]*)\}/g, (whole, name: string) => {
      const value = slots[name.trim()];
      return value === undefined ? '' : whole.replace(/\{[^{}]*\}$/, value);
    })
    .trim();
}

/** Tokens of a recognition result, timed per word when the engine gives word times. */
export function timedTokens(result: RecognitionResult): TimedToken[] {
  if (result.words.length === 0) {
    return tokenize(result.text).map((text) => ({ text, startMs: result.startMs, endMs: result.endMs, confidence: undefined }));
  }
  const out: TimedToken[] = [];
  for (const word of result.words) {
    for (const text of tokenize(word.word)) {
      out.push({ text, startMs: word.startMs, endMs: word.endMs, confidence: word.confidence });
    }
  }
  return out;
}

/** What the caller knows about a result beyond the result itself. */
export interface ResultContext {
  /**
   * Call time (ms since call start) at which the result's audio ends, i.e.
   * the leg's audio offset plus `result.endMs`. Used for intent windows;
   * without it the result's own times are taken as call time.
   */
  readonly callTimeMs?: number;
  /** The result comes from a recogniser, not a pushed transcript (see `MatchOptions.recognised`). */
  readonly recognised?: boolean;
}

/**
 * Per-leg state that makes an intent fire once per utterance, whether it is
 * first seen in a partial or only in the final.
 */
export class UtteranceIntentTracker {
  private utteranceId = -1;
  private readonly fired = new Set<string>();
  private readonly matcher: () => IntentMatcher;

  /**
   * @param matcher the matcher, or a function returning the current one so
   *   that grammar reloads (GrammarStore) reach calls already in progress.
   */
  constructor(
    matcher: IntentMatcher | (() => IntentMatcher),
    private readonly speaker: Speaker,
  ) {
    this.matcher = typeof matcher === 'function' ? matcher : () => matcher;
  }

  /** Intents in `result` not yet reported for its utterance. */
  onResult(result: RecognitionResult, context: ResultContext = {}): IntentMatch[] {
    if (result.utteranceId !== this.utteranceId) {
      this.utteranceId = result.utteranceId;
      this.fired.clear();
    }
    const options: MatchOptions = {
      final: result.final,
      callTimeOffsetMs: context.callTimeMs === undefined ? 0 : context.callTimeMs - result.endMs,
      ...(context.recognised === undefined ? {} : { recognised: context.recognised }),
    };
    const matcher = this.matcher();
    const best = matcher.match(timedTokens(result), this.speaker, options);
    const fresh = best.filter((m) => !this.fired.has(m.intent.id));
    for (const m of fresh) this.fired.add(m.intent.id);
    const alternatives = result.final ? (result.alternatives ?? []) : [];
    // Words the best hypothesis already read as an intent are not read again as another one
    // ("cancel my order" in the best, "cancel my account" further down the list).
    const explained: { startMs: number; endMs: number }[] = [...best];
    alternatives.forEach((hypothesis, index) => {
      // Exact words only, and not by sound: a lower hypothesis is weaker evidence already.
      const rank = index + 1;
      for (const m of matcher.match(timedTokens({ ...result, text: hypothesis.text, words: hypothesis.words }), this.speaker, { ...options, phonetic: false })) {
        if (m.evidence !== 'exact' || this.fired.has(m.intent.id)) continue;
        if (explained.some((e) => m.startMs < e.endMs && e.startMs < m.endMs)) continue;
        this.fired.add(m.intent.id);
        explained.push(m);
        // The further down the list, the lower: rank 1 of 4 keeps 80 %, rank 4 of 4 20 %.
        fresh.push({ ...m, fuzzy: true, evidence: 'alternative', alternative: rank, confidence: m.confidence * (1 - rank / (alternatives.length + 1)) });
      }
    });
    if (result.final) {
      // Last: a phrase match says more (slots, the words that carried it) than the classifier's reading of the whole utterance.
      for (const m of matcher.classify(timedTokens(result), this.speaker, options)) {
        if (this.fired.has(m.intent.id)) continue;
        this.fired.add(m.intent.id);
        fresh.push(m);
      }
    }
    return fresh;
  }
}
