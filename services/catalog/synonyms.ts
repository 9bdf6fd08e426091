/**
 * Search synonyms: groups of words a search treats as the same (番茄 = 西红柿). Admins edit them
 * at /admin/search/synonyms; every catalog node keeps the groups in memory, reloads them after
 * its own writes, when another node broadcasts a change, and at most SYNONYMS_TTL_MS after a
 * change it missed. Search pages are cached under the spellings a query expands to, so a
 * changed group never serves an old page under the new meaning.
 */
import { bizError, validationError } from "../shared/errors";
import type { SynonymGroupDto } from "./catalog.contracts";
import type { CatalogService } from "./catalog-types";
import { MAX_TERM_LENGTH, SynonymGroup, cleanSynonymWords } from "./domain/search-tokens";

export const SYNONYMS_CHANGED = "catalog.synonymsChanged";
export const SYNONYMS_TTL_MS = 30_000;

interface Loaded {
  groups: SynonymGroup[];
  at: number;
}
const loaded = new WeakMap<CatalogService, Loaded | Promise<Loaded>>();

function parse(words: string): string[] {
  try {
    const v = JSON.parse(words) as unknown;
    return Array.isArray(v) ? v.filter((w): w is string => typeof w === "string") : [];
  } catch {
    return [];
  }
}

async function load(svc: CatalogService): Promise<Loaded> {
  const rows = await svc.models.SearchSynonym.findAll({ order: [["id", "ASC"]] });
  return { groups: rows.map((r) => parse(r.words)).filter((g) => g.length > 1), at: Date.now() };
}

/** The current groups (from memory; loaded on first use and after the TTL). */
export async function synonymGroups(svc: CatalogService): Promise<SynonymGroup[]> {
  const cur = loaded.get(svc);
  if (cur && !(cur instanceof Promise) && Date.now() - cur.at < SYNONYMS_TTL_MS) return cur.groups;
  if (cur instanceof Promise) return (await cur).groups;
  const p = load(svc);
  loaded.set(svc, p);
  try {
    const l = await p;
    loaded.set(svc, l);
    return l.groups;
  } catch (err) {
    loaded.delete(svc);
    throw err;
  }
}

/** Forget the loaded groups (this node); the next search reloads them. */
export function dropSynonyms(svc: CatalogService): void {
  loaded.delete(svc);
}

function dto(r: { id: number; words: string; updatedAt: Date }): SynonymGroupDto {
  return { id: Number(r.id), words: parse(r.words), updatedAt: new Date(r.updatedAt).toISOString() };
}

function checkWords(words: string[]): string[] {
  const clean = cleanSynonymWords(words);
  if (clean.length < 2) throw validationError([{ field: "words", message: "a synonym group needs at least two different words with letters or digits" }]);
  const long = clean.find((w) => [...w].length > MAX_TERM_LENGTH);
  if (long) throw validationError([{ field: "words", message: `"${long}" is longer than ${MAX_TERM_LENGTH} characters` }]);
  return clean;
}

async function changed(svc: CatalogService): Promise<void> {
  dropSynonyms(svc);
  await svc.broker.broadcast(SYNONYMS_CHANGED, {});
}

export async function listSynonyms(svc: CatalogService): Promise<SynonymGroupDto[]> {
  const rows = await svc.models.SearchSynonym.findAll({ order: [["id", "ASC"]] });
  return rows.map(dto);
}

export async function createSynonyms(svc: CatalogService, words: string[]): Promise<SynonymGroupDto> {
  const row = await svc.models.SearchSynonym.create({ words: JSON.stringify(checkWords(words)) });
  await changed(svc);
  return dto(row);
}

export async function updateSynonyms(svc: CatalogService, id: number, words: string[]): Promise<SynonymGroupDto> {
  const clean = checkWords(words);
  const [n] = await svc.models.SearchSynonym.update({ words: JSON.stringify(clean) }, { where: { id } });
  if (!n) throw bizError("SYNONYM_GROUP_NOT_FOUND");
  await changed(svc);
  return dto((await svc.models.SearchSynonym.findByPk(id))!);
}

export async function deleteSynonyms(svc: CatalogService, id: number): Promise<{ id: number; deleted: boolean }> {
  const n = await svc.models.SearchSynonym.destroy({ where: { id } });
  if (!n) throw bizError("SYNONYM_GROUP_NOT_FOUND");
  await changed(svc);
  return { id, deleted: true };
}
