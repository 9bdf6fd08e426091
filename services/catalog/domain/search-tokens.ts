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
 * - Ranking, optional (it adds to the score, never filters): a term row is flagged `head` when
 *   the term is the head of a title phrase — the last bigram of a CJK run, the last Latin word of
 *   the title — and the query's head earns HEAD_WEIGHT on a product whose row for it is flagged.
 *   Chinese (and English) compounds put their head last: 华为手机 is a phone (head 手机), 手机壳
 *   is a case (head 机壳), so the query 手机 ranks phones above phone cases though both contain
 *   it. The flag sits on the row the query reads anyway (a separate `$<head>` mark row, as before
 *   migration 0204, cost a lookup per match). The mark `=<whole title>` ranks the product whose
 *   title is the query first; `=` never occurs in word terms.
 */

export const TITLE_WEIGHT = 2;
export const SUBTITLE_WEIGHT = 1;
/** Bonus when the query's head is the head of a title phrase (a `head` term row). */
export const HEAD_WEIGHT = 3;
/** Bonus when the title is the query. */
export const EXACT_WEIGHT = 6;
const EXACT_MARK = "=";
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
  /** the term is the head of one of the title's phrases (present only when true) */
  head?: true;
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

/** The head of a CJK run: its last bigram (or its only character). */
function cjkHead(run: string): string {
  return [...run].slice(-2).join("");
}

/** The heads of a title's phrases: the last bigram of each CJK run, the last Latin word. */
export function titleHeads(title: string): string[] {
  const rs = runs(title);
  const heads = new Set<string>();
  for (const r of rs) if (r.cjk) heads.add(cjkHead(r.text));
  const lastLatin = [...rs].reverse().find((r) => !r.cjk);
  if (lastLatin) heads.add(cut(lastLatin.text));
  return [...heads];
}

function exactMark(rs: Run[]): string {
  return EXACT_MARK + [...rs.map((r) => r.text).join(" ")].slice(0, MAX_TERM_LENGTH - 1).join("");
}

/** The head of a query: the head of its last phrase, as titleHeads finds it (null: no words). */
export function queryHead(q: string): string | null {
  const rs = runs(q);
  if (!rs.length) return null;
  const last = rs[rs.length - 1];
  return last.cjk ? cjkHead(last.text) : cut(last.text);
}

/**
 * The optional ranking marks of a query: its exact form. A product with the mark (its title is
 * the query) gets its weight added to the score; one without is still found.
 */
export function queryMarks(q: string): string[] {
  const rs = runs(q);
  return rs.length ? [exactMark(rs)] : [];
}

/** The terms to store for one product, each with its best weight, the title's heads flagged. */
export function indexTerms(title: string, subtitle?: string | null): IndexTerm[] {
  const best = new Map<string, number>();
  const add = (terms: string[], weight: number) => {
    for (const t of terms) if ((best.get(t) ?? 0) < weight) best.set(t, weight);
  };
  // the mark and the heads first, so the per-product cap never drops them
  const rs = runs(title);
  if (rs.length) best.set(exactMark(rs), EXACT_WEIGHT);
  const heads = new Set(titleHeads(title));
  for (const h of heads) best.set(h, TITLE_WEIGHT);
  add(termsOf(title), TITLE_WEIGHT);
  if (subtitle) add(termsOf(subtitle), SUBTITLE_WEIGHT);
  return [...best].slice(0, MAX_TERMS_PER_PRODUCT).map(([term, weight]) => (heads.has(term) ? { term, weight, head: true } : { term, weight }));
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

/** A group of words that mean the same to a shopper (番茄 = 西红柿), edited by admins. */
export type SynonymGroup = string[];
/** Most spellings one search runs (the query itself and its synonym variants). */
export const MAX_QUERY_VARIANTS = 4;

const escapeRegExp = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `q` with every occurrence of the word `w` replaced (inside CJK runs; whole words otherwise). */
function replaceWord(q: string, w: string, by: string): string {
  if (CJK.test(w)) return q.split(w).join(by);
  return q.replace(new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(w)}(?=$|[^\\p{L}\\p{N}])`, "gu"), (_m, pre: string) => pre + by);
}

/**
 * The spellings a search runs: the query, then the query with one word replaced by each of its
 * synonyms (CJK words match inside a run, Latin words as whole words), at most
 * MAX_QUERY_VARIANTS. A product matching any spelling is found; its best score counts.
 */
export function queryVariants(q: string, groups: SynonymGroup[]): string[] {
  const base = normalise(q).trim();
  const out = [base];
  for (const group of groups) {
    const words = group.map((w) => normalise(w).trim()).filter(Boolean);
    for (const w of words) {
      for (const other of words) {
        if (other === w || out.length >= MAX_QUERY_VARIANTS) continue;
        const v = replaceWord(base, w, other);
        if (v !== base && !out.includes(v)) out.push(v);
      }
    }
  }
  return out;
}

/** One spelling of a search as the SQL reads it: required terms, the head, the exact mark. */
export interface QuerySpelling {
  terms: QueryTerm[];
  head: string | null;
  marks: string[];
}

/** What a search for `q` runs: the query and its synonym spellings, each that has a term. */
export function querySpellings(q: string, groups: SynonymGroup[]): QuerySpelling[] {
  return queryVariants(q, groups)
    .map((v) => ({ terms: queryTerms(v), head: queryHead(v), marks: queryMarks(v) }))
    .filter((sp) => sp.terms.length > 0);
}

/** Shipped synonym groups (the migration inserts them once; admins edit or delete them). */
export const DEFAULT_SYNONYMS: SynonymGroup[] = [
  ["番茄", "西红柿"],
  ["土豆", "马铃薯"],
  ["红薯", "地瓜"],
];

/** An admin's synonym words: normalised, trimmed, distinct, each with a letter or digit. */
export function cleanSynonymWords(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const n = runs(w).map((r) => r.text).join(" ");
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}
