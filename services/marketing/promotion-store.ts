/**
 * Persistence of promotions, and the cached list of the ones that can run.
 *
 * The storefront (`GET /promotions`) and every checkout (`marketing.offers`) read the enabled,
 * not yet ended promotions. They are kept in the broker's cacher (memory embedded, Redis shared
 * by every node in the cluster) for PROMOTIONS_TTL seconds; which of them run is decided on each
 * read against the clock, so a promotion starts and ends on time whatever the cache holds.
 * The entry's key carries a generation that every admin write replaces after its commit. A read
 * takes the generation before it loads the rows and stores them under it, so a read that loaded
 * the old rows just before a commit can only store them under a generation nobody reads again.
 */
import crypto from "node:crypto";
import type { Cachers, Service } from "moleculer";
import { Op, Sequelize, Transaction } from "sequelize";
import type { MarketingModels, PromotionAttrs } from "../../models/marketing";
import { runUpdate, withRetriedTransaction } from "../shared/db";
import { bizError } from "../shared/errors";
import type { Page } from "../shared/schema";
import { TierInput, cleanRules, isRunning, promotionViolation } from "./domain/promotion-rules";
import { normaliseScope, touches } from "./domain/scope";
import type { ActivePromotionDto, OfferScope, PromotionDto, PromotionOffer, PromotionRule, PromotionType } from "./marketing.contracts";
import { violationError } from "./violations";

export const PROMOTIONS_CACHE_KEY = "marketing.promotions.open";
export const PROMOTIONS_TTL = 30;
const GENERATION_KEY = "marketing.promotions.generation";
const EDIT_ATTEMPTS = 3;

export interface PromotionFields {
  name: string;
  type: PromotionType;
  rules: TierInput[];
  scope: OfferScope;
  startAt: Date;
  endAt: Date;
  enabled: boolean;
}

/** What the cache holds (JSON-safe: it may live in Redis). */
interface OpenPromotion {
  id: number;
  name: string;
  type: PromotionType;
  rules: PromotionRule[];
  scope: Required<OfferScope>;
  startAt: string;
  endAt: string;
}

export interface PromotionDeps {
  sequelize: Sequelize;
  models: MarketingModels;
  cacher: InstanceType<typeof Cachers.Base> | null | undefined;
  logger: Service["logger"];
}

const iso = (d: Date | string) => new Date(d).toISOString();

function promotionDto(p: PromotionAttrs): PromotionDto {
  return {
    id: Number(p.id),
    name: p.name,
    type: p.type,
    rules: p.rules,
    scope: normaliseScope(p.scope),
    startAt: iso(p.startAt),
    endAt: iso(p.endAt),
    enabled: !!p.enabled,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

const fieldsOf = (p: PromotionAttrs): PromotionFields => ({
  name: p.name,
  type: p.type,
  rules: p.rules,
  scope: p.scope,
  startAt: new Date(p.startAt),
  endAt: new Date(p.endAt),
  enabled: !!p.enabled,
});

function checked(f: PromotionFields): PromotionFields {
  const bad = promotionViolation(f);
  if (bad) throw violationError(bad);
  return { ...f, rules: cleanRules(f.type, f.rules), scope: normaliseScope(f.scope) };
}

export class PromotionStore {
  constructor(private deps: PromotionDeps) {}

  private get m() {
    return this.deps.models;
  }

  private tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T> {
    return withRetriedTransaction(this.deps.sequelize, fn);
  }

  // ── admin ──────────────────────────────────────────────────────────────────────────────────

  async create(input: PromotionFields): Promise<PromotionDto> {
    const f = checked(input);
    const now = new Date();
    const row = await this.m.Promotion.create({ ...f, rules: f.rules as PromotionRule[], version: 1, createdAt: now, updatedAt: now });
    await this.changed();
    return promotionDto(row.get({ plain: true }) as PromotionAttrs);
  }

  async get(id: number): Promise<PromotionAttrs> {
    const row = await this.m.Promotion.findByPk(id);
    if (!row) throw bizError("PROMOTION_NOT_FOUND", undefined, { id });
    return row.get({ plain: true }) as PromotionAttrs;
  }

  async list(page: number, pageSize: number): Promise<Page<PromotionDto>> {
    const { rows, count } = await this.m.Promotion.findAndCountAll({ order: [["id", "DESC"]], limit: pageSize, offset: (page - 1) * pageSize });
    return { items: rows.map((r) => promotionDto(r.get({ plain: true }) as PromotionAttrs)), total: count, page, pageSize };
  }

  /** A changed type needs its tiers restated: the old tiers are checked against the new type. */
  async update(id: number, patch: Partial<PromotionFields>): Promise<PromotionDto> {
    for (let attempt = 1; ; attempt++) {
      const row = await this.get(id);
      const f = checked({ ...fieldsOf(row), ...patch });
      const changed = await this.tx((t) =>
        runUpdate(
          this.deps.sequelize,
          "UPDATE promotions SET name = ?, type = ?, rules = ?, scope = ?, start_at = ?, end_at = ?, enabled = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          [f.name, f.type, JSON.stringify(f.rules), JSON.stringify(f.scope), f.startAt, f.endAt, f.enabled, new Date(), id, row.version],
          t,
        ),
      );
      if (changed === 1) {
        await this.changed();
        return promotionDto(await this.get(id));
      }
      await this.get(id);
      if (attempt >= EDIT_ATTEMPTS) throw bizError("CONFLICT", "the promotion is being edited by someone else; reload it and try again", { id });
    }
  }

  /** Orders keep the discount they were priced with, so a promotion may go at any time. */
  async remove(id: number): Promise<{ deleted: boolean }> {
    const deleted = await this.tx((t) => runUpdate(this.deps.sequelize, "DELETE FROM promotions WHERE id = ?", [id], t));
    if (deleted !== 1) throw bizError("PROMOTION_NOT_FOUND", undefined, { id });
    await this.changed();
    return { deleted: true };
  }

  // ── what runs ──────────────────────────────────────────────────────────────────────────────

  /** Enabled promotions that have not ended (some may not have started yet), cached. */
  private async open(): Promise<OpenPromotion[]> {
    const key = `${PROMOTIONS_CACHE_KEY}:${await this.generation()}`;
    const hit = await this.cached(key);
    if (hit) return hit;
    const rows = await this.m.Promotion.findAll({ where: { enabled: true, endAt: { [Op.gt]: new Date() } }, order: [["id", "ASC"]] });
    const open = rows.map((r) => {
      const { id, name, type, rules, scope, startAt, endAt } = promotionDto(r.get({ plain: true }) as PromotionAttrs);
      return { id, name, type, rules, scope: normaliseScope(scope), startAt, endAt };
    });
    await this.store(key, open);
    return open;
  }

  async running(now = new Date()): Promise<ActivePromotionDto[]> {
    return (await this.open()).filter((p) => isRunning({ enabled: true, startAt: new Date(p.startAt), endAt: new Date(p.endAt) }, now));
  }

  /** The running promotions that cover any of these goods. */
  async offers(productIds: number[], categoryIds: number[], now = new Date()): Promise<PromotionOffer[]> {
    return (await this.running(now))
      .filter((p) => touches(p.scope, productIds, categoryIds))
      .map(({ id, name, type, rules, scope }) => ({ id, name, type, rules, scope }));
  }

  // ── cache ──────────────────────────────────────────────────────────────────────────────────

  private async generation(): Promise<string> {
    try {
      return String((await this.deps.cacher?.get(GENERATION_KEY)) ?? "0");
    } catch (err) {
      this.deps.logger.warn(`promotions cache read failed: ${(err as Error).message}`);
      return "0";
    }
  }

  private async cached(key: string): Promise<OpenPromotion[] | null> {
    try {
      return ((await this.deps.cacher?.get(key)) as OpenPromotion[] | null) ?? null;
    } catch (err) {
      this.deps.logger.warn(`promotions cache read failed: ${(err as Error).message}`);
      return null;
    }
  }

  private async store(key: string, open: OpenPromotion[]): Promise<void> {
    try {
      await this.deps.cacher?.set(key, open, PROMOTIONS_TTL);
    } catch (err) {
      this.deps.logger.warn(`promotions cache write failed: ${(err as Error).message}`);
    }
  }

  /** After an admin write commits: a new generation, so no cached list from before it is read again. */
  private async changed(): Promise<void> {
    try {
      // no TTL: the generation must outlive every entry stored under it
      await this.deps.cacher?.set(GENERATION_KEY, crypto.randomUUID(), 0);
    } catch (err) {
      this.deps.logger.warn(`promotions cache invalidation failed: ${(err as Error).message}`);
    }
  }
}
