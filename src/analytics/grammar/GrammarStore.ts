import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { LANGUAGES, type Language } from '../../language.js';
import type { Logger } from '../../logger.js';
import { errorMessage } from '../../errors.js';
import { IntentClassifier } from '../classifier/IntentClassifier.js';
import { IntentMatcher, type Speaker } from '../intents/IntentMatcher.js';
import type { PhoneticLexicon } from '../phonetic/PhoneticLexicon.js';
import { compileSpotPhrases, type SpotPhrase } from './spotPhrases.js';
import { GrammarError, GrammarSet, type GrammarSource } from './GrammarSet.js';

export interface GrammarStoreOptions {
  readonly logger: Logger;
  /** Reload when a grammar file changes (fs.watch, debounced). Default false. */
  readonly watch?: boolean;
  /** Quiet time after the last file event before reloading; default 300 ms (editors write in bursts). */
  readonly debounceMs?: number;
  /** Pronunciations per language for matching key phrases by sound; absent: by spelling only. */
  readonly phonetic?: (language: Language) => PhoneticLexicon | undefined;
  /**
   * Read each language's intent classifier (`<dir>/<language>/classifier.json`,
   * docs/analytics.md#classifier) at open; a language without one has grammars only. Default false.
   */
  readonly classifiers?: boolean;
  /**
   * Languages whose matcher and spot list are compiled when a set is loaded
   * (at open and at each reload) instead of on a call's first use. Compiling
   * takes ~0.5 s on the event loop for en-US and a few hundred MB of heap:
   * paid at start-up, not by the first call, whose media would stall.
   */
  readonly prepare?: readonly Language[];
}

export type ReloadResult = { ok: true; changed: boolean } | { ok: false; error: GrammarError };

export interface GrammarStoreEvents {
  /** A new grammar set is in use. */
  reloaded: [set: GrammarSet];
  /** A reload failed; the previous set stays in use. */
  reloadFailed: [error: GrammarError];
}

/**
 * The grammar set in use, reloadable without a restart. A broken edit never
 * takes effect: the previous set stays in use and the problems are logged
 * with file and line, so an analyst can fix and save again.
 *
 *   const store = await GrammarStore.open(dir, { logger, watch: true });
 *   const tracker = new UtteranceIntentTracker(() => store.matcher(language), 'customer');
 *   process.on('SIGHUP', () => void store.reload());
 */
export class GrammarStore extends EventEmitter<GrammarStoreEvents> {
  private set: GrammarSet;
  private fingerprint: string;
  private matchers = new Map<Language, IntentMatcher>();
  /** Spot phrase lists by language and speaker. */
  private spotLists = new Map<string, SpotPhrase[]>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Reloads run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private classifiers = new Map<Language, IntentClassifier>();

  private constructor(
    readonly dir: string,
    private readonly options: GrammarStoreOptions,
    set: GrammarSet,
    fingerprint: string,
  ) {
    super();
    this.set = set;
    this.fingerprint = fingerprint;
  }

  /** Loads `dir`; a broken grammar rejects with a `GrammarError` (start-up must fail). */
  static async open(dir: string, options: GrammarStoreOptions): Promise<GrammarStore> {
    const sources = await GrammarSet.readSources(dir);
    const store = new GrammarStore(dir, options, GrammarSet.fromSources(sources), fingerprintOf(sources));
    if (options.classifiers === true) await store.loadClassifiers();
    const started = performance.now();
    store.prepare();
    options.logger.info({ dir, intents: store.set.size, compiledMs: Math.round(performance.now() - started) }, 'grammars loaded');
    if (options.watch === true) store.startWatching();
    return store;
  }

  /** The grammar set in use. */
  get current(): GrammarSet {
    return this.set;
  }

  /** The compiled matcher of `language` for the current set (built once per set). */
  /**
   * Keyword-spotter phrases of the current grammars (`compileSpotPhrases`),
   * cached like matchers: of every intent, or of the intents `speaker` may
   * raise (a leg's spotter listens only for what its speaker can say to
   * effect; a phrase no intent of theirs has is rejected after costing CPU).
   */
  spotPhrases(language: Language, speaker?: Speaker): readonly SpotPhrase[] {
    const key = `${language}/${speaker ?? 'any'}`;
    let list = this.spotLists.get(key);
    if (list === undefined) {
      const intents = this.set.intents(language);
      list = compileSpotPhrases(speaker === undefined ? intents : intents.filter((i) => i.speaker === 'either' || i.speaker === speaker));
      this.spotLists.set(key, list);
    }
    return list;
  }

  /** Whether the current grammars have an intent (of any kind) that `speaker` may raise. */
  raisesIntents(language: Language, speaker: Speaker): boolean {
    return this.set.intents(language).some((i) => i.speaker === 'either' || i.speaker === speaker);
  }

  matcher(language: Language): IntentMatcher {
    let matcher = this.matchers.get(language);
    if (matcher === undefined) {
      const phonetic = this.options.phonetic?.(language);
      const classifier = this.classifiers.get(language);
      matcher = new IntentMatcher(this.set.intents(language), {
        language,
        ...(phonetic === undefined ? {} : { phonetic }),
        ...(classifier === undefined ? {} : { classifier }),
      });
      this.matchers.set(language, matcher);
    }
    return matcher;
  }

  /**
   * Reads the grammar files again. On success with changed files the new
   * set replaces the old one and `reloaded` is emitted; on any problem the
   * old set stays and `reloadFailed` is emitted.
   */
  reload(): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const { logger } = this.options;
    let sources: GrammarSource[];
    let set: GrammarSet;
    try {
      sources = await GrammarSet.readSources(this.dir);
      set = GrammarSet.fromSources(sources);
    } catch (err) {
      const error = err instanceof GrammarError ? err : new GrammarError([{ file: this.dir, line: 0, message: errorMessage(err) }]);
      logger.error({ dir: this.dir, problems: error.problems.map((p) => `${p.file}:${p.line}: ${p.message}`) }, 'grammar reload failed; keeping the previous grammars');
      this.emit('reloadFailed', error);
      return { ok: false, error };
    }
    const fingerprint = fingerprintOf(sources);
    if (fingerprint === this.fingerprint) return { ok: true, changed: false };
    this.set = set;
    this.fingerprint = fingerprint;
    this.matchers = new Map();
    this.spotLists = new Map();
    const started = performance.now();
    this.prepare();
    logger.info({ dir: this.dir, intents: set.size, compiledMs: Math.round(performance.now() - started) }, 'grammars reloaded');
    this.emit('reloaded', set);
    return { ok: true, changed: true };
  }

  /** A bad model file rejects (start-up must fail); a missing one leaves the language to its grammars. */
  private async loadClassifiers(): Promise<void> {
    const { logger } = this.options;
    for (const language of LANGUAGES) {
      const file = path.join(this.dir, language, 'classifier.json');
      try {
        await access(file);
      } catch {
        logger.warn({ language, file }, 'no intent classifier for this language: intents come from the grammars only');
        continue;
      }
      const classifier = await IntentClassifier.load(file);
      const known = new Set(this.set.intents(language).map((i) => i.id));
      const unknown = classifier.labels.filter((id) => !known.has(id));
      // Its intents are raised through the grammar's definitions (kind, severity, prompt): one without is never raised.
      if (unknown.length > 0) logger.warn({ language, file, unknown }, 'intent classifier knows intents the grammars lack; those are not raised');
      this.classifiers.set(language, classifier);
      logger.info({ language, file, intents: classifier.labels.length, threshold: classifier.threshold }, 'intent classifier loaded');
    }
    this.matchers = new Map();
    this.prepare();
  }

  /** Compiles the `prepare` languages' matchers and spot lists for the current set. */
  private prepare(): void {
    for (const language of this.options.prepare ?? []) {
      this.matcher(language);
      for (const speaker of ['customer', 'agent'] as const) this.spotPhrases(language, speaker);
    }
  }

  private startWatching(): void {
    const { logger } = this.options;
    try {
      // Recursive: language folders and files may be replaced by editors (write then rename).
      this.watcher = watch(this.dir, { recursive: true, persistent: false }, (_event, filename) => {
        if (filename !== null && !/\.ya?ml$/.test(filename) && filename.includes('.')) return;
        this.schedule();
      });
      this.watcher.on('error', (err) => logger.warn({ err, dir: this.dir }, 'grammar watch failed; use reload (SIGHUP) instead'));
    } catch (err) {
      logger.warn({ err, dir: this.dir }, 'cannot watch grammars; use reload (SIGHUP) instead');
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.options.debounceMs ?? 300);
    this.timer.unref();
  }
}

function fingerprintOf(sources: readonly GrammarSource[]): string {
  const hash = createHash('sha256');
  for (const s of sources) hash.update(`${s.language}\0${s.file}\0${s.text}\0`);
  return hash.digest('hex');
}
