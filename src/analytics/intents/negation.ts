/**
 * Negation and hypotheticals around a phrase match, on unpunctuated ASR
 * tokens. A match is suppressed when:
 *
 * - a negator ("not", "don't", "never", "niet", "geen") is matched by a
 *   wildcard of the phrase ("ik wil mijn bestelling *2 annuleren" on "... niet
 *   annuleren");
 * - a negator stands up to 5 words before it in the same clause ("i don't
 *   want to cancel my order"). The clause ends at conjunctions ("but",
 *   "maar"), at a new subject ("it's not fair | i want my money back") and
 *   at a wh-word ("ik weet niet | waar mijn pakket blijft"), except after a
 *   verb of saying or thinking ("i never said | i want to cancel");
 * - (Dutch) a negator follows within 2 words ("ik annuleer mijn bestelling
 *   niet"): Dutch puts "niet" after the object;
 * - it lies in the if-clause of a conditional ("if i cancel ...", "what
 *   happens if ...", "als ik zou opzeggen", "stel dat ik opzeg");
 * - it is an `intent` in the main clause of a conditional ("if i cancel
 *   would i get a refund", "als ik opzeg krijg ik dan mijn geld terug"),
 *   or in a yes/no question followed by an if-clause ("would i get my money
 *   back if i cancel"): those are questions about consequences. An
 *   `escalation` there still
 *   counts: threats are conditional by nature ("if this isn't fixed i'm
 *   going to sue", "als u dit niet oplost stap ik naar de rechter");
 * - it is a question about a policy or an imagined case ("how much notice
 *   do i need to give to end the membership", "were i to close my account"),
 *   a plan given up ("i was this close to cancelling … but you sorted it"),
 *   or a hedge ("i might cancel after the summer");
 * - it is a relative's or a friend's speech the caller reports ("my brother
 *   reckons everyone should switch", "my neighbour said she's going to
 *   report you to the papers"), up to the next "but", "so" or the like: the
 *   caller did not say it.
 *
 * Negation that is part of the intent ("i haven't received my order", "ik
 * hoef de bestelling niet meer") is written in the phrase itself; negators
 * matched by the phrase's own words never suppress it.
 */
import type { Language } from '../../language.js';

export type Suppression = 'negated' | 'hypothetical' | 'reported';

interface LanguageCues {
  readonly negators: ReadonlySet<string>;
  /** End the scope of a negation (and, with `strong`, of a conditional). */
  readonly boundaries: ReadonlySet<string>;
  readonly strongBoundaries: ReadonlySet<string>;
  /** Conjunctions a phrase wildcard does not skip. Dutch "maar" is not one: it is also a particle ("zeg het maar op"). */
  readonly gapStops: ReadonlySet<string>;
  /** Words that open an if-clause; a marker's `next` lists the words that must follow it, if any. */
  readonly conditionals: readonly {
    readonly words: readonly string[];
    readonly next?: ReadonlySet<string>;
    /** Only doubt: counts after a negated embedder ("weet niet of") or a verb of doubt ("twijfel of"). */
    readonly doubtOnly?: boolean;
    /** Only at the start of the utterance or of a clause ("say i cancel …", not "i never say i …"). */
    readonly clauseInitial?: boolean;
    /** A plan given up: counts only when a word of `retractions` follows ("i almost switched | but you sorted it"). */
    readonly retracted?: boolean;
    /** A question about a policy or an imagined case, never a request: the classifier does not read it either. */
    readonly inquiry?: boolean;
  }[];
  /** Words that give up a plan told before them ("but", "though"). */
  readonly retractions: ReadonlySet<string>;
  /** People whose speech a caller reports ("my brother", "my neighbour"), after one of `possessives`. */
  readonly thirdParties: ReadonlySet<string>;
  readonly possessives: ReadonlySet<string>;
  /** Verbs that report a third party's speech or opinion, right after them or one word on ("keeps saying"). */
  readonly thirdPartyReporting: ReadonlySet<string>;
  /**
   * Subjects that are nobody in particular, and the verbs after which they act ("when someone wants
   * to take you to court", "can people go straight to court"): what they do is a general case, not
   * the caller's own request or threat. Absent: not used for the language.
   */
  readonly genericSubjects?: { readonly subjects: ReadonlySet<string>; readonly verbs: ReadonlySet<string> };
  /** "if possible", "als het kan": politeness, not a condition. */
  readonly politeConditionals: readonly (readonly string[])[];
  /** Before "if"/"whether" these make an indirect question, not a condition ("can you check if ..."). */
  readonly embedders: ReadonlySet<string>;
  readonly doubtVerbs: ReadonlySet<string>;
  readonly subjects: ReadonlySet<string>;
  readonly whWords: ReadonlySet<string>;
  /** Verbs of saying and thinking: a negation before them reaches into the next clause. */
  readonly reporting: ReadonlySet<string>;
  readonly complementizers: ReadonlySet<string>;
  /** Words that start the main clause after an if-clause. */
  readonly thenWords: ReadonlySet<string>;
  /** Modals of an imagined case after a wh-word ("who would pay"). */
  readonly hypotheticalModals: ReadonlySet<string>;
  /** Verbs that open a yes/no question about a consequence ("would i ...", "krijg ik ..."), before a subject. */
  readonly questionOpeners: ReadonlySet<string>;
  readonly questionSubjects: ReadonlySet<string>;
  /**
   * Modals that open such a question only before the speaker ("can i get a refund if …"):
   * before "you" they make a request ("can you cancel it if it has not shipped").
   */
  readonly modalQuestionOpeners: ReadonlySet<string>;
  readonly firstPerson: ReadonlySet<string>;
  /**
   * Words that start a new request, so a negation before them belongs to the
   * clause before ("i don't need it anymore | can you cancel it"): a word
   * alone ("please"), or a modal before "you" ("can you", "kunt u").
   */
  readonly requestOpeners: ReadonlySet<string>;
  readonly requestModals: ReadonlySet<string>;
  readonly addressees: ReadonlySet<string>;
  /** Pronoun plus copula that starts a new statement ("… hasn't moved | this is a joke"). */
  readonly statementPronouns: ReadonlySet<string>;
  readonly copulas: ReadonlySet<string>;
  /** How many words after a match may still negate it. */
  readonly trailingNegation: number;
  /** Main clause after an if-clause starts with the verb, before the subject (Dutch inversion). */
  readonly verbSecond: boolean;
  /**
   * A main clause after an if-clause whose subject is a noun ("if i don't get my money back by friday
   * | my attorney will be contacting you"): a determiner, one word, then a modal (`modals`) or a form
   * of "be" before "going" (`goingTo`). Absent where the main clause is told by its verb (Dutch).
   */
  readonly nounSubjects?: { readonly determiners: ReadonlySet<string>; readonly modals: ReadonlySet<string>; readonly goingTo: ReadonlySet<string> };
}

const set = (words: string): ReadonlySet<string> => new Set(words.split(/\s+/).filter((w) => w.length > 0));

const NL_SUBJECTS = 'ik je jij u we wij jullie ze zij hij';

const CUES: Readonly<Record<Language, LanguageCues>> = {
  'en-US': {
    negators: set(
      "not don't dont never didn't didnt doesn't doesnt won't wont wouldn't wouldnt shouldn't shouldnt isn't isnt aren't arent wasn't wasnt haven't havent hasn't hasnt ain't",
    ),
    boundaries: set("and but or so because cause 'cause cos then although though however anyway also plus otherwise"),
    strongBoundaries: set("but so because cause 'cause cos although though however anyway otherwise"),
    gapStops: set("and but or so because cause 'cause cos although though however"),
    conditionals: [
      { words: ['if'] },
      { words: ['whether'] },
      { words: ['suppose'] },
      { words: ['supposing'] },
      { words: ['assuming'] },
      { words: ['hypothetically'] },
      { words: ['in', 'case'] },
      // Unrealised plans: "i was going to ask for a refund but ..."
      { words: ['was', 'going', 'to'] },
      { words: ['was', 'gonna'] },
      { words: ['were', 'going', 'to'] },
      // Inverted and imagined conditions: "were i to close my account …", "say i cancel today would …".
      { words: ['were', 'i', 'to'], inquiry: true },
      { words: ['were', 'we', 'to'], inquiry: true },
      { words: ['should', 'i', 'decide'], inquiry: true },
      { words: ['should', 'we', 'decide'], inquiry: true },
      { words: ['say'], next: set('i we'), clauseInitial: true, inquiry: true },
      { words: ['should'], next: set('the my it your this that our'), clauseInitial: true, inquiry: true },
      // Hedges: "i might cancel after the summer".
      { words: ['i', 'might'] },
      { words: ['we', 'might'] },
      // Questions about a policy, not requests: "how much notice do i need to give to end …".
      { words: ['how', 'much', 'notice'], inquiry: true },
      { words: ['notice', 'period'], inquiry: true },
      { words: ['is', 'there', 'a'], next: set('fee charge penalty cost time'), inquiry: true },
      { words: ['is', 'there', 'an'], next: set('exit early cancellation'), inquiry: true },
      { words: ['how', 'many', 'days'], inquiry: true },
      { words: ['how', 'long', 'do', 'i', 'have'], inquiry: true },
      { words: ['how', 'long', 'i', 'have'], inquiry: true },
      { words: ['how', 'long', 'have', 'i', 'got'], inquiry: true },
      { words: ['time', 'limit'], inquiry: true },
      { words: ['what', 'happens', 'after'], inquiry: true },
      { words: ['what', 'happens', 'when'], inquiry: true },
      { words: ["what's", 'the', 'process'], inquiry: true },
      { words: ['what', 'is', 'the', 'process'], inquiry: true },
      { words: ['do', 'you'], next: set('refund refunds pay'), inquiry: true },
      { words: ['do', 'i', 'need', 'to', 'give', 'notice'], inquiry: true },
      { words: ['do', 'i', 'have', 'to', 'give', 'notice'], inquiry: true },
      // Plans given up: "i was this close to cancelling … but your technician sorted it".
      { words: ['was', 'this', 'close', 'to'], retracted: true },
      { words: ['was', 'so', 'close', 'to'], retracted: true },
      { words: ['came', 'close', 'to'], retracted: true },
      { words: ['was', 'all', 'ready', 'to'], retracted: true },
      { words: ['was', 'ready', 'to'], retracted: true },
      { words: ['was', 'about', 'to'], retracted: true },
      { words: ['were', 'about', 'to'], retracted: true },
      { words: ['was', 'thinking', 'about'], retracted: true },
      { words: ['was', 'thinking', 'of'], retracted: true },
      { words: ['were', 'thinking', 'about'], retracted: true },
      { words: ['were', 'thinking', 'of'], retracted: true },
      { words: ['did', 'think', 'about'], retracted: true },
      { words: ['thought', 'about'], retracted: true },
      { words: ['was', 'planning', 'to'], retracted: true },
      { words: ['would', 'have'], retracted: true },
      { words: ['almost'], next: set('cancelled canceled ended stopped dropped switched left closed called rang went quit sued complained reported wrote posted moved walked took'), retracted: true },
      { words: ['nearly'], next: set('cancelled canceled ended stopped dropped switched left closed called rang went quit sued complained reported wrote posted moved walked took'), retracted: true },
    ],
    retractions: set('but though however anyway instead'),
    thirdParties: set(
      'brother sister husband wife partner mum mom mother dad father son daughter neighbour neighbor mate friend friends cousin uncle aunt boyfriend girlfriend flatmate roommate colleague boss grandma grandad grandpa gran nan parents',
    ),
    possessives: set('my our his her'),
    thirdPartyReporting: set('said says told tells reckons reckoned thinks thought keeps always suggested claims'),
    genericSubjects: {
      subjects: set('someone somebody people anyone anybody customers'),
      verbs: set('can could will would should may might must wants want goes go takes take has have had does do did gets get needs need is are was were'),
    },
    politeConditionals: [
      ['if', 'possible'],
      ['if', 'at', 'all', 'possible'],
      ['if', "it's", 'possible'],
      ['if', 'it', 'is', 'possible'],
      ['if', 'you', 'can'],
      ['if', 'you', 'could'],
      ['if', 'you', 'would'],
      ['if', 'you', "don't", 'mind'],
      ['if', "that's", 'okay'],
      ['if', "that's", 'ok'],
    ],
    embedders: set('know check see ask asking asked tell confirm wondering wonder wondered find verify look sure'),
    doubtVerbs: set('doubt unsure undecided'),
    subjects: set("i i'm im i'd id i'll i've ive we we're we'll we'd we've you you're you'll you've they they're they'll he she"),
    whWords: set("where where's wheres when what what's whats why how who which"),
    reporting: set('said say saying says asked ask asking told tell think thought believe mean meant claim claimed suggested suggest'),
    complementizers: set('that'),
    thenWords: set('then'),
    hypotheticalModals: set('would should could'),
    questionOpeners: set('would will do does did is are am should'),
    questionSubjects: set('i we it you they that this there'),
    modalQuestionOpeners: set('can could may might'),
    firstPerson: set('i we'),
    requestOpeners: set('please'),
    requestModals: set('can could would will'),
    addressees: set('you'),
    statementPronouns: set("this that it it's that's"),
    copulas: set('is was'),
    trailingNegation: 0,
    verbSecond: false,
    nounSubjects: { determiners: set('my our your the his her their'), modals: set("will would shall won't"), goingTo: set("is are 's") },
  },
  'nl-NL': {
    negators: set('niet geen nooit niks niets nergens'),
    boundaries: set('en maar of want omdat dus toen anders echter trouwens tenzij'),
    strongBoundaries: set('maar want omdat dus anders echter trouwens'),
    gapStops: set('en of want omdat dus toen echter'),
    conditionals: [
      { words: ['als'], next: set(`${NL_SUBJECTS} het dat dit er mijn de een uw jouw die deze men iemand niemand alles niets niks`) },
      { words: ['indien'] },
      { words: ['mocht'] },
      { words: ['mochten'] },
      { words: ['wanneer'], next: set(`${NL_SUBJECTS}`) },
      // Longest first: "stel dat" must not leave "dat" to be taken for the if-clause's subject.
      { words: ['stel', 'dat'] },
      { words: ['stel'], next: set(`${NL_SUBJECTS} nou`) },
      { words: ['stel', 'je', 'voor'] },
      { words: ['gesteld', 'dat'] },
      { words: ['ingeval'] },
      { words: ['in', 'geval'] },
      // "ik weet niet of ik wil opzeggen": doubt, not a request.
      { words: ['of'], doubtOnly: true },
      // Questions about a policy, not requests: "wat kost het om het contract eerder te beëindigen".
      { words: ['wat', 'kost', 'het', 'om'], inquiry: true },
      { words: ['tot', 'wanneer'], inquiry: true },
      { words: ['binnen', 'welke', 'termijn'], inquiry: true },
      { words: ['hoe', 'gaat', 'dat'], inquiry: true },
      { words: ['wat', 'is', 'jullie', 'beleid'], inquiry: true },
      { words: ['wat', 'is', 'uw', 'beleid'], inquiry: true },
      { words: ['hoe', 'zit', 'het', 'met'], next: set('geld terugbetaling restitutie retourneren'), inquiry: true },
      { words: ['heeft', 'het', 'zin', 'om'], inquiry: true },
      { words: ['hoe', 'lang', 'duurt', 'het'], inquiry: true },
      // Plans given up: "ik had bijna mijn advocaat gebeld maar toen kwam het geld binnen".
      { words: ['bijna'], retracted: true },
      { words: ['wou', 'eigenlijk'], retracted: true },
      { words: ['wilde', 'eigenlijk'], retracted: true },
      { words: ['was', 'al', 'helemaal', 'klaar', 'om'], retracted: true },
      { words: ['was', 'klaar', 'om'], retracted: true },
      { words: ['over', 'gedacht'], retracted: true },
      { words: ['aan', 'gedacht'], retracted: true },
      { words: ['overwogen'], retracted: true },
    ],
    retractions: set('maar toch echter'),
    thirdParties: set(
      'broer zus man vrouw partner moeder vader zoon dochter buurman buurvrouw vriend vriendin vrienden neef nicht oom tante collega baas schoonmoeder schoonvader kleinzoon kleindochter opa oma ouders',
    ),
    possessives: set('mijn onze zijn haar'),
    thirdPartyReporting: set('zegt zei zeggen vindt vond denkt dacht roept riep beweert'),
    politeConditionals: [
      ['als', 'het', 'kan'],
      ['als', 'dat', 'kan'],
      ['als', 'het', 'mogelijk', 'is'],
      ['als', 'dat', 'mogelijk', 'is'],
      ['als', 'het', 'lukt'],
      ['als', 'u', 'wilt'],
      ['als', 'je', 'wilt'],
      ['als', 'u', 'zo', 'vriendelijk'],
      ['indien', 'mogelijk'],
    ],
    embedders: set('weet weten vraag vroeg kijken kijk zien controleren checken zeker'),
    doubtVerbs: set('twijfel twijfelen betwijfel'),
    subjects: set(NL_SUBJECTS),
    whWords: set('waar wanneer wat waarom hoe wie welke hoelang'),
    reporting: set('gezegd zeg zei zegt zeggen gevraagd vraag vroeg denk dacht gedacht bedoel bedoelde beweer beweerd'),
    complementizers: set('dat'),
    thenWords: set('dan'),
    hypotheticalModals: set('zou zouden'),
    questionOpeners: set('krijg krijgen ben zijn word worden moet moeten betaal betalen verlies verliezen kost kosten heb hebben'),
    questionSubjects: set(`${NL_SUBJECTS} het dat dit`),
    modalQuestionOpeners: set('zou zouden kan kun kunnen mag mogen'),
    firstPerson: set('ik we wij'),
    requestOpeners: set('alstublieft alsjeblieft'),
    requestModals: set('kunt kan kun wilt wil zou'),
    addressees: set('u je jij jullie'),
    statementPronouns: set('dit dat het'),
    copulas: set('is was'),
    trailingNegation: 2,
    verbSecond: true,
  },
};

/** Whether `token` negates ("not", "don't", "niet", "geen" …). */
export function isNegator(token: string, language: Language): boolean {
  return CUES[language].negators.has(token);
}

/** Whether a wildcard may skip `token`: not across a conjunction into another clause. */
export function isClauseBoundary(token: string, language: Language): boolean {
  return CUES[language].gapStops.has(token);
}

/** Whether `token` is a subject pronoun ("i", "we", "ik", "jullie" …). */
export function isSubjectPronoun(token: string, language: Language): boolean {
  return CUES[language].subjects.has(token);
}

/** Subjects that follow the verb of a Dutch main clause after an if-clause. */
const DUTCH_NEUTER_SUBJECTS = set('het dit dat er');
/** Words before "het/dit/dat/er" that show it is not a subject after a verb (articles, prepositions, particles, conjunctions). */
const DUTCH_NOT_VERBS = set('van op in aan met voor naar om bij uit over tot door onder tegen na als dan dat de het een niet geen nog al wel ook toch maar zo te en of omdat want dus');

/** The caller's own voice after a conjunction: a reported third party's speech ends there ("… and we want a refund"). */
const FIRST_PERSON_SUBJECTS = set("i i'm im i'd id i'll i've ive we we're we'll we'd we've ik wij");
/** The caller speaking of themself, as subject, object or owner. */
const FIRST_PERSON_WORDS = new Set([...FIRST_PERSON_SUBJECTS, ...set('me my mine us our ours mij mijn ons onze')]);

/** How far before a match a negator is looked for. */
const NEGATION_WINDOW = 5;
/** How far after its marker an if-clause and its main clause reach. */
const CONDITIONAL_REACH = 14;

interface Conditional {
  /** First token of the marker. */
  readonly at: number;
  /** Token after the marker. */
  readonly end: number;
  /** First token of the main clause, or `scopeEnd` when none was seen. */
  readonly consequent: number;
  /** Token after the conditional's reach (strong boundary or distance). */
  readonly scopeEnd: number;
  /** A plan given up: a phrase that includes the marker ("thinking about cancelling", "ik wilde bijna opzeggen") is in its scope too. */
  readonly retracted: boolean;
  /** A question about a policy or an imagined case: the classifier does not read it either. */
  readonly inquiry: boolean;
}

/** A candidate match, by token index. */
export interface MatchSpan {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
  /** Indices of tokens matched by wildcards (not by the phrase's own words). */
  readonly free: readonly number[];
}

/**
 * The negation and conditional structure of one token sequence, computed
 * once per hypothesis and asked about each candidate match.
 */
export class UtteranceContext {
  private readonly cues: LanguageCues;
  private readonly conditionals: Conditional[] = [];
  /** Tokens that belong to a conditional marker; they end a negation scope. */
  private readonly markerTokens = new Set<number>();
  /** Not the caller's own words: a third party's reported speech, or a clause whose subject is nobody in particular; [start, end) by token. */
  private readonly reportedSpans: { readonly start: number; readonly end: number }[] = [];
  /** Markers of a plan whose retraction ("but …") may still be recognised: a partial hypothesis waits. */
  private readonly unresolvedRetractions: number[] = [];

  constructor(
    private readonly tokens: readonly string[],
    language: Language,
  ) {
    this.cues = CUES[language];
    this.findConditionals();
    this.findReportedSpeech();
  }

  /** Why the match should not count, or `undefined` when it should. */
  suppression(span: MatchSpan, kind: 'intent' | 'escalation'): Suppression | undefined {
    const { cues, tokens } = this;
    for (const i of span.free) if (cues.negators.has(tokens[i] ?? '')) return 'negated';
    if (this.reportedSpans.some((r) => r.start <= span.start && span.start < r.end)) return 'reported';

    let barrier = 0;
    for (const c of this.conditionals) {
      if (c.retracted ? span.end < c.at : c.end > span.start) continue;
      if (span.start >= c.scopeEnd) continue;
      if (span.start < c.consequent) return 'hypothetical';
      if (kind === 'intent') return 'hypothetical';
      barrier = Math.max(barrier, c.consequent);
    }
    if (kind === 'intent' && this.questionClause(span.start)) {
      // "would i get my money back if i cancel": an if-clause after the question.
      if (this.conditionals.some((c) => c.at > span.end && c.at - span.end <= CONDITIONAL_REACH && !this.strongBetween(span.end, c.at))) return 'hypothetical';
    }
    if (this.negatedBefore(span.start, barrier)) return 'negated';
    if (this.negatedAfter(span.end)) return 'negated';
    return undefined;
  }

  /**
   * The words left when plans given up, reported speech, policy questions and imagined cases are
   * taken out: the intent classifier reads these. If-clauses stay in, as does negation: the model
   * learnt them from the labelled negatives, and taking if-clauses out too cost as many requests
   * as it saved false intents on the dev folds (docs/analytics.md#classifier).
   */
  freeText(): string {
    const out = new Set<number>();
    for (const c of this.conditionals) {
      if (!c.retracted && !c.inquiry) continue;
      for (let k = c.at; k < c.scopeEnd; k++) out.add(k);
    }
    for (const r of this.reportedSpans) for (let k = r.start; k < r.end; k++) out.add(k);
    return this.tokens.filter((_, k) => !out.has(k)).join(' ');
  }

  /**
   * Whether words not yet recognised may still suppress the match, so a
   * partial hypothesis should not report it yet: a Dutch negator may follow
   * ("... annuleren | niet"), or an if-clause may follow a question ("would
   * i get my money back | if i cancel").
   */
  openEnded(span: MatchSpan, kind: 'intent' | 'escalation'): boolean {
    const { cues, tokens } = this;
    if (kind === 'intent' && this.questionClause(span.start)) return true;
    if (this.unresolvedRetractions.some((at) => at <= span.end)) return true;
    if (cues.trailingNegation === 0) return false;
    for (let k = span.end + 1; k <= span.end + cues.trailingNegation; k++) {
      const t = tokens[k];
      if (t === undefined) return true;
      if (cues.boundaries.has(t) || cues.subjects.has(t)) return false;
    }
    return false;
  }

  /**
   * Whether a conditional's main clause asks what would follow for the caller ("if i return it after
   * thirty days | can i still get my money back", "als ik nu opzeg | betaal ik dan de hele maand")
   * or who would ("if the parcel went missing | who would pay"): the utterance asks about a consequence. A question about the order itself ("if it has gone out | when will it arrive",
   * "wanneer komt hij dan") or a request ("can you cancel it") is no such question. Dutch puts
   * the verb first in every main clause after an if-clause, so there "dan" after the subject marks it.
   */
  asksAboutConsequence(): boolean {
    const { cues, tokens } = this;
    const opens = (t: string): boolean => cues.questionOpeners.has(t) || cues.modalQuestionOpeners.has(t);
    for (const c of this.conditionals) {
      const m = c.consequent;
      // English "… | can i …": the opener before the subject; Dutch "… | moet ik dan …": the verb, the subject, then "dan".
      const asksForCaller = cues.verbSecond
        ? opens(tokens[m] ?? '') && cues.firstPerson.has(tokens[m + 1] ?? '') && cues.thenWords.has(tokens[m + 2] ?? '')
        : opens(tokens[m - 1] ?? '') && cues.firstPerson.has(tokens[m] ?? '');
      if (m < c.scopeEnd && asksForCaller) return true;
      for (let k = c.end + 1; k < c.scopeEnd; k++) if (cues.whWords.has(tokens[k] ?? '') && cues.hypotheticalModals.has(tokens[k + 1] ?? '')) return true;
    }
    return false;
  }

  /** Whether the clause holding `start` is a yes/no question ("would i ...", "krijg ik ..."). */
  private questionClause(start: number): boolean {
    const { cues, tokens } = this;
    let clauseStart = 0;
    for (let j = start - 1; j >= 0; j--) {
      if (cues.boundaries.has(tokens[j] ?? '') || this.markerTokens.has(j)) {
        clauseStart = j + 1;
        break;
      }
    }
    const opener = tokens[clauseStart] ?? '';
    const subject = tokens[clauseStart + 1] ?? '';
    if (cues.questionOpeners.has(opener) && cues.questionSubjects.has(subject)) return true;
    if (cues.modalQuestionOpeners.has(opener) && cues.firstPerson.has(subject)) return true;
    // "when will i get my money back if i cancel": a question about a consequence too.
    return cues.whWords.has(opener) && clauseStart < start;
  }

  /** Whether a new request or statement starts at `j`, closing the clause before it to a negation. */
  private clauseStartsAt(j: number): boolean {
    const { cues, tokens } = this;
    const t = tokens[j] ?? '';
    const next = tokens[j + 1] ?? '';
    if (cues.requestOpeners.has(t)) return true;
    if (cues.requestModals.has(t) && cues.addressees.has(next)) return true;
    return cues.statementPronouns.has(t) && (t.includes("'") || cues.copulas.has(next));
  }

  private strongBetween(from: number, to: number): boolean {
    for (let k = from + 1; k < to; k++) if (this.cues.strongBoundaries.has(this.tokens[k] ?? '')) return true;
    return false;
  }

  private negatedBefore(start: number, barrier: number): boolean {
    const { cues, tokens } = this;
    const first = tokens[start] ?? '';
    if ((cues.subjects.has(first) || cues.whWords.has(first)) && !this.reportedAt(start)) return false;
    if (this.clauseStartsAt(start)) return false;
    let reach = NEGATION_WINDOW;
    for (let j = start - 1; j >= Math.max(barrier, start - reach); j--) {
      const t = tokens[j] ?? '';
      if (cues.boundaries.has(t) || this.markerTokens.has(j)) return false;
      if (cues.negators.has(t)) return true;
      if (this.clauseStartsAt(j)) return false;
      if (cues.subjects.has(t) || cues.whWords.has(t)) {
        if (!this.reportedAt(j)) return false;
        // The verb of saying and its "that" do not count against the window ("i never said | that i …").
        reach += 2;
      }
    }
    return false;
  }

  /** Whether the clause starting at `i` is the object of a verb of saying ("never said [that] i ...", "bedoelde niet dat ik ..."). */
  private reportedAt(i: number): boolean {
    let k = i - 1;
    if (this.cues.complementizers.has(this.tokens[k] ?? '')) k--;
    if (this.cues.negators.has(this.tokens[k] ?? '')) k--;
    return this.cues.reporting.has(this.tokens[k] ?? '');
  }

  private negatedAfter(end: number): boolean {
    const { cues, tokens } = this;
    for (let k = end + 1; k <= end + cues.trailingNegation && k < tokens.length; k++) {
      const t = tokens[k] ?? '';
      if (cues.negators.has(t)) return true;
      if (cues.boundaries.has(t) || cues.subjects.has(t) || t === 'het' || t === 'dat' || t === 'dit') return false;
    }
    return false;
  }

  private findConditionals(): void {
    const { cues, tokens } = this;
    for (let i = 0; i < tokens.length; i++) {
      const marker = cues.conditionals.find(
        (m) => m.words.every((w, k) => tokens[i + k] === w) && (m.next === undefined || m.next.has(tokens[i + m.words.length] ?? '')),
      );
      if (marker === undefined) continue;
      if (marker.doubtOnly === true && !this.doubtBefore(i)) continue;
      if (marker.clauseInitial === true && i > 0 && !cues.boundaries.has(tokens[i - 1] ?? '')) continue;
      if (marker.retracted === true && !this.retractedAfter(i, i + marker.words.length)) continue;
      if (cues.politeConditionals.some((p) => p.every((w, k) => tokens[i + k] === w))) continue;
      if (this.indirectQuestion(i)) continue;
      const end = i + marker.words.length;
      for (let k = i; k < end; k++) this.markerTokens.add(k);
      let scopeEnd = Math.min(tokens.length, end + CONDITIONAL_REACH);
      let consequent = -1;
      // The word right after the marker is the if-clause's own subject.
      for (let k = end + 1; k < scopeEnd; k++) {
        const t = tokens[k] ?? '';
        if (cues.strongBoundaries.has(t)) {
          scopeEnd = k;
          break;
        }
        if (cues.thenWords.has(t)) {
          consequent = k;
          break;
        }
        if (cues.subjects.has(t)) {
          consequent = cues.verbSecond ? Math.max(end + 1, k - 1) : k;
          break;
        }
        if (this.nounSubjectAt(k)) {
          consequent = k;
          break;
        }
        // Dutch main clause with a neuter subject after the verb ("als dit niet opgelost is | gaat het naar
        // mijn advocaat"): the if-clause ended on its verb, the main clause starts with its own.
        if (cues.verbSecond && k > end + 2 && DUTCH_NEUTER_SUBJECTS.has(t) && !DUTCH_NOT_VERBS.has(tokens[k - 1] ?? '')) {
          consequent = k - 1;
          break;
        }
      }
      this.conditionals.push({ at: i, end, consequent: consequent < 0 ? scopeEnd : consequent, scopeEnd, retracted: marker.retracted === true, inquiry: marker.inquiry === true });
      i = end - 1;
    }
  }

  /** Whether a noun subject and its verb start a clause at `k` ("my attorney will …", "the lawyers are going to …"). */
  private nounSubjectAt(k: number): boolean {
    const cues = this.cues.nounSubjects;
    const { tokens } = this;
    if (cues === undefined || !cues.determiners.has(tokens[k] ?? '')) return false;
    const noun = tokens[k + 1] ?? '';
    const verb = tokens[k + 2] ?? '';
    if (noun === '' || this.cues.subjects.has(noun)) return false;
    return noun.endsWith("'ll") || cues.modals.has(verb) || (cues.goingTo.has(verb) && (tokens[k + 3] === 'going' || tokens[k + 3] === 'gonna'));
  }

  /**
   * Whether a plan told from `from` on (its marker at `marker`) is given up ("… but you sorted it").
   * When the words so far end before the retraction could be ruled out, the marker is remembered for `openEnded`.
   */
  private retractedAfter(marker: number, from: number): boolean {
    const { cues, tokens } = this;
    const reach = from + 2 * CONDITIONAL_REACH;
    for (let k = from; k < Math.min(tokens.length, reach); k++) if (cues.retractions.has(tokens[k] ?? '')) return true;
    if (tokens.length < reach) this.unresolvedRetractions.push(marker);
    return false;
  }

  /**
   * "my brother reckons …", "my husband keeps telling me …", and a clause of nobody in particular ("when someone
   * wants to take you to court"): up to a strong boundary or the caller's own next clause.
   */
  private findReportedSpeech(): void {
    const { cues, tokens } = this;
    for (let i = 0; i + 2 < tokens.length; i++) {
      if (!cues.possessives.has(tokens[i] ?? '') || !cues.thirdParties.has(tokens[i + 1] ?? '')) continue;
      const verb = cues.thirdPartyReporting.has(tokens[i + 2] ?? '') ? i + 2 : cues.thirdPartyReporting.has(tokens[i + 3] ?? '') ? i + 3 : -1;
      if (verb < 0) continue;
      const end = this.clauseEnd(verb + 1);
      this.reportedSpans.push({ start: i, end });
      i = end - 1;
    }
    const generic = cues.genericSubjects;
    if (generic === undefined) return;
    for (let i = 0; i + 1 < tokens.length; i++) {
      if (!generic.subjects.has(tokens[i] ?? '') || !generic.verbs.has(tokens[i + 1] ?? '')) continue;
      const end = this.clauseEnd(i + 1);
      // The caller in the clause makes it theirs: "someone will be hearing from my lawyer".
      if (tokens.slice(i + 2, end).some((t) => FIRST_PERSON_WORDS.has(t))) continue;
      // From the verb on: a phrase that names the subject itself is a threat's own wording ("people should know how you treat customers").
      this.reportedSpans.push({ start: i + 1, end });
    }
  }

  /** Where the clause going on at `from` ends: a strong boundary, or a boundary before the caller speaking of themself. */
  private clauseEnd(from: number): number {
    const { cues, tokens } = this;
    const end = Math.min(tokens.length, from + CONDITIONAL_REACH + 6);
    for (let k = from; k < end; k++) {
      const t = tokens[k] ?? '';
      if (cues.strongBoundaries.has(t) || (cues.boundaries.has(t) && FIRST_PERSON_SUBJECTS.has(tokens[k + 1] ?? ''))) return k;
    }
    return end;
  }

  /** A verb of doubt, or an embedder with a negator, just before `i` ("weet ik niet of", "twijfel of"). */
  private doubtBefore(i: number): boolean {
    const { cues, tokens } = this;
    let embedder = false;
    let negated = false;
    for (let k = i - 1; k >= Math.max(0, i - 3); k--) {
      const t = tokens[k] ?? '';
      if (cues.doubtVerbs.has(t)) return true;
      if (cues.embedders.has(t)) embedder = true;
      if (cues.negators.has(t)) negated = true;
    }
    return embedder && negated;
  }

  /** "can you check if ...", "i was wondering if ...": unless doubted ("i don't know if", "not sure whether"). */
  private indirectQuestion(i: number): boolean {
    const { cues, tokens } = this;
    const first = tokens[i];
    if (first !== 'if' && first !== 'whether') return false;
    const before = tokens[i - 1] ?? '';
    if (!cues.embedders.has(before)) return false;
    for (let k = i - 2; k >= Math.max(0, i - 4); k--) if (cues.negators.has(tokens[k] ?? '')) return false;
    return true;
  }
}
