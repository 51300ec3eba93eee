/**
 * Labelled utterances, one JSON object per line in `<dir>/<language>.jsonl`
 * and `<dir>/<language>.<part>.jsonl`:
 *
 *   {"text": "cancel my older please", "speaker": "customer", "expect": ["cancel_order"], "tags": ["asr"]}
 *
 * `text` as a recogniser writes it, `expect` every intent the utterance
 * should raise (none for a negative example), optional `tags` for reports.
 * The evaluation scores on this format and the classifier trains on it.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Language } from '../../language.js';

export interface CorpusItem {
  readonly text: string;
  readonly speaker: 'customer' | 'agent';
  readonly expect: readonly string[];
  readonly tags?: readonly string[];
}

/** Reads and checks `<dir>/<language>.jsonl` and `<dir>/<language>.<part>.jsonl`; none is an empty corpus. */
export async function readCorpus(dir: string, language: Language): Promise<CorpusItem[]> {
  return (await readCorpusFiles(dir, language)).flatMap((f) => f.items);
}

/** As `readCorpus`, file by file (name relative to `dir`). */
export async function readCorpusFiles(dir: string, language: Language): Promise<{ name: string; items: CorpusItem[] }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n === `${language}.jsonl` || (n.startsWith(`${language}.`) && n.endsWith('.jsonl'))).sort();
  } catch {
    return [];
  }
  const files: { name: string; items: CorpusItem[] }[] = [];
  for (const name of names) files.push({ name, items: parseCorpus(path.join(dir, name), await readFile(path.join(dir, name), 'utf8')) });
  return files;
}

function parseCorpus(file: string, text: string): CorpusItem[] {
  const items: CorpusItem[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim().length === 0) return;
    const where = `${file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const item = value as Partial<CorpusItem> | null;
    if (
      item === null ||
      typeof item.text !== 'string' ||
      (item.speaker !== 'customer' && item.speaker !== 'agent') ||
      !Array.isArray(item.expect) ||
      !item.expect.every((e) => typeof e === 'string')
    ) {
      throw new Error(`${where}: expected {"text": string, "speaker": "customer"|"agent", "expect": string[]}`);
    }
    items.push({ text: item.text, speaker: item.speaker, expect: item.expect, tags: Array.isArray(item.tags) ? item.tags : [] });
  });
  return items;
}

