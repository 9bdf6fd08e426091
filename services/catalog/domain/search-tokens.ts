/**
 * Search terms for product titles and subtitles, shared by the indexer and the query parser.
 *
 * Why a term table and not LIKE / FULLTEXT: `LIKE '%西红柿%'` cannot use an index (a full scan
 * of 100k rows per search), MariaDB has no CJK (ngram) FULLTEXT parser, and SQLite's FTS5 is a
 * different SQL dialect. An ordinary table of `(term, product_id, weight)` with the primary key
 * on `(term, product_id)` is an index range scan on both MySQL/MariaDB and SQLite.
 *
 * - Latin (and any other space-separated script): lowercased, accent-folded words; a word mixing
 *   letters and digits ("iphone15", "500g") is also indexed as its letter and digit parts.
 *   Query words match by prefix (`tom` → `tomato`), which is an index range `[tom, ton)`.
 * - CJK (no spaces between words): overlapping character bigrams ("西红柿" → 西红, 红柿) plus the
 *   last character of each run, so every character starts at least one term. A query of two or
 *   more CJK characters must contain all of its bigrams; a single character matches by prefix.
 * - Weight: 2 when the term is in the title, 1 when only in the subtitle. A product's score is
 *   the sum, over the query's terms, of the best weight it has for each: title hits rank first.
 */

export const TITLE_WEIGHT = 2;
export const SUBTITLE_WEIGHT = 1;
/** Longest term stored (characters); longer words are cut, and queries are cut the same way. */
export const MAX_TERM_LENGTH = 32;
/** Most terms one product contributes to the index. */
export const MAX_TERMS_PER_PRODUCT = 200;
/** Most terms one query uses (more would only narrow the result further). */
export const MAX_QUERY_TERMS = 8;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const WORD_CHAR = /[\p{L}\p{N}]/u;

export interface IndexTerm {
  term: string;
  weight: number;
}

export interface QueryTerm {
  term: string;
  /** match every indexed term starting with `term` (an index range) instead of equality */
  prefix: boolean;
}

/** NFKC (full-width → ASCII), accent folding for Latin, lower case. */
export function normalise(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{Mn}/gu, "")
    .normalize("NFKC")
    .toLowerCase();
}

interface Run {
  cjk: boolean;
  text: string;
}

/** Split text into runs of CJK characters and runs of other letters/digits. */
function runs(text: string): Run[] {
  const out: Run[] = [];
  let cur: Run | null = null;
  for (const ch of normalise(text)) {
    if (!WORD_CHAR.test(ch)) {
      cur = null;
      continue;
    }
    const cjk = CJK.test(ch);
    if (!cur || cur.cjk !== cjk) {
      cur = { cjk, text: "" };
      out.push(cur);
    }
    cur.text += ch;
  }
  return out;
}

function cut(s: string): string {
  return [...s].slice(0, MAX_TERM_LENGTH).join("");
}

/** The letter-only and digit-only parts of a mixed word ("iphone15" → iphone, 15). */
function wordParts(word: string): string[] {
  const parts = word.match(/\p{N}+|[^\p{N}]+/gu) ?? [];
  return parts.length > 1 ? parts : [];
}

function cjkTerms(run: string): string[] {
  const chars = [...run];
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
  out.push(chars[chars.length - 1]);
  return out;
}

function termsOf(text: string): string[] {
  const out: string[] = [];
  for (const r of runs(text)) {
    if (r.cjk) out.push(...cjkTerms(r.text));
    else {
      out.push(cut(r.text));
      for (const p of wordParts(r.text)) if ([...p].length >= 2) out.push(cut(p));
    }
  }
  return out;
}

/** The terms to store for one product, each with its best weight. */
export function indexTerms(title: string, subtitle?: string | null): IndexTerm[] {
  const best = new Map<string, number>();
  const add = (terms: string[], weight: number) => {
    for (const t of terms) if ((best.get(t) ?? 0) < weight) best.set(t, weight);
  };
  add(termsOf(title), TITLE_WEIGHT);
  if (subtitle) add(termsOf(subtitle), SUBTITLE_WEIGHT);
  return [...best]
    .slice(0, MAX_TERMS_PER_PRODUCT)
    .map(([term, weight]) => ({ term, weight }));
}

/**
 * The terms a search must match, all of them (AND). Empty when the query has no letters or
 * digits, in which case the caller lists without a keyword filter.
 */
export function queryTerms(q: string): QueryTerm[] {
  const out = new Map<string, QueryTerm>();
  const add = (term: string, prefix: boolean) => {
    const prev = out.get(term);
    // an exact requirement is stricter than a prefix one on the same term
    if (!prev || (prev.prefix && !prefix)) out.set(term, { term, prefix });
  };
  for (const r of runs(q)) {
    const chars = [...r.text];
    if (r.cjk) {
      if (chars.length === 1) add(r.text, true);
      else for (let i = 0; i + 1 < chars.length; i++) add(chars[i] + chars[i + 1], false);
      continue;
    }
    // "iphone15" → iphone + 15 (matches "iPhone 15" too); "k3" has no part worth a term: whole
    const parts = wordParts(r.text).filter((p) => [...p].length >= 2);
    const words = parts.length ? parts : [r.text];
    for (const w of words) {
      const len = [...w].length;
      // a single letter would expand to a large share of the index: exact match only
      if (len > MAX_TERM_LENGTH) add(cut(w), false);
      else add(w, len >= 2);
    }
  }
  return [...out.values()].slice(0, MAX_QUERY_TERMS);
}

/**
 * The smallest string greater than every string starting with `prefix` (code point order, which
 * is byte order for UTF-8 and the order of a binary collation): `term >= prefix AND term < upper`.
 */
export function prefixUpperBound(prefix: string): string {
  const cps = [...prefix].map((c) => c.codePointAt(0)!);
  while (cps.length) {
    const last = cps.pop()!;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // skip the surrogate range
    if (next <= 0x10ffff) return String.fromCodePoint(...cps, next);
  }
  return "\u{10ffff}".repeat(2);
}
