/**
 * Persistence of coupons: templates (admin), claims with their quotas, the coupons users hold,
 * and the holds checkout takes on them. Every quota and status change is a conditional UPDATE
 * whose affected-row count decides; nothing is read, checked in JavaScript and written back.
 *
 * Claim quotas. A claim is one transaction of two compare-and-sets and an insert:
 *   1. `UPDATE coupon_templates SET claimed = claimed + 1 WHERE id = ? AND claimed < total_quantity
 *       AND enabled AND now in the window`               (the total quota)
 *   2. `UPDATE coupon_claims SET claimed = claimed + 1 WHERE template_id = ? AND user_id = ?
 *       AND claimed < per_user_limit`                     (the per-user quota, one row per pair)
 *   3. insert the coupon with the template's terms.
 * Either update matching no row rolls the whole claim back. The template row is always locked
 * first, so on MySQL/MariaDB concurrent claims queue on it and never wait on each other in a
 * cycle; the per-user counter row is created beforehand by an insert that ignores duplicates,
 * because concurrent first inserts of one key inside transactions are a classic InnoDB deadlock.
 * On SQLite writers are serialised anyway, and the same statements hold.
 */
import { Op, QueryTypes, Sequelize, Transaction, col } from "sequelize";
import type { CouponTemplateAttrs, CouponTerms, MarketingModels, UserCouponAttrs } from "../../models/marketing";
import type { Row } from "../../models/helpers";
import { runUpdate, withRetriedTransaction } from "../shared/db";
import { bizError } from "../shared/errors";
import type { Page } from "../shared/schema";
import { claimViolation, couponTermsViolation, shownStatus, usability } from "./domain/coupon-rules";
import { normaliseScope } from "./domain/scope";
import { CouponEvents } from "./marketing.contracts";
import type { ClaimableTemplateDto, CouponClaimedEvent, CouponHold, CouponOffer, CouponStatus, CouponTemplateDto, ExpiringCoupon, ExpiringCouponsParams, UserCouponDto } from "./marketing.contracts";
import { violationError } from "./violations";

export interface TemplateFields extends CouponTerms {
  totalQuantity: number;
  perUserLimit: number;
  enabled: boolean;
}

export interface StoreDeps {
  sequelize: Sequelize;
  models: MarketingModels;
  /** the service's outbox (coupon.claimed goes out in the claim's transaction) */
  outbox?(t: Transaction, channel: string, data: unknown): Promise<unknown>;
}

const iso = (d: Date | string) => new Date(d).toISOString();

/** A compare-and-set lost to a concurrent change is re-read and re-tried this often before giving up. */
const CAS_ATTEMPTS = 3;

function templateDto(t: CouponTemplateAttrs): CouponTemplateDto {
  return {
    id: Number(t.id),
    name: t.name,
    type: t.type,
    value: t.value,
    threshold: t.threshold,
    scope: normaliseScope(t.scope),
    validFrom: iso(t.validFrom),
    validTo: iso(t.validTo),
    totalQuantity: t.totalQuantity,
    claimed: t.claimed,
    remaining: Math.max(0, t.totalQuantity - t.claimed),
    perUserLimit: t.perUserLimit,
    enabled: !!t.enabled,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}

function claimableDto(t: CouponTemplateAttrs): ClaimableTemplateDto {
  const { id, name, type, value, threshold, scope, validFrom, validTo, perUserLimit, remaining } = templateDto(t);
  return { id, name, type, value, threshold, scope, validFrom, validTo, perUserLimit, remaining };
}

function couponDto(c: UserCouponAttrs, now: Date): UserCouponDto {
  return {
    id: Number(c.id),
    templateId: Number(c.templateId),
    name: c.name,
    type: c.type,
    value: c.value,
    threshold: c.threshold,
    scope: normaliseScope(c.scope),
    status: shownStatus(c.status, new Date(c.validTo), now),
    validFrom: iso(c.validFrom),
    validTo: iso(c.validTo),
    orderNo: c.orderNo,
    claimedAt: iso(c.createdAt),
  };
}

function couponOffer(c: UserCouponAttrs): CouponOffer {
  return {
    id: Number(c.id),
    templateId: Number(c.templateId),
    name: c.name,
    type: c.type,
    value: c.value,
    threshold: c.threshold,
    scope: normaliseScope(c.scope),
    validTo: iso(c.validTo),
  };
}

const fieldsOf = (t: CouponTemplateAttrs): TemplateFields => ({
  name: t.name,
  type: t.type,
  value: t.value,
  threshold: t.threshold,
  scope: t.scope,
  validFrom: new Date(t.validFrom),
  validTo: new Date(t.validTo),
  totalQuantity: t.totalQuantity,
  perUserLimit: t.perUserLimit,
  enabled: !!t.enabled,
});

/** A claim lost one of its compare-and-sets (the transaction rolls back, then the caller says why). */
class ClaimLost extends Error {
  constructor(readonly quota: "total" | "user") {
    super(`claim lost on the ${quota} quota`);
  }
}

export class CouponStore {
  constructor(private deps: StoreDeps) {}

  private get m() {
    return this.deps.models;
  }

  private get db() {
    return this.deps.sequelize;
  }

  private tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T> {
    return withRetriedTransaction(this.db, fn);
  }

  // ── templates (admin) ──────────────────────────────────────────────────────────────────────

  async createTemplate(f: TemplateFields): Promise<CouponTemplateDto> {
    const bad = couponTermsViolation(f);
    if (bad) throw violationError(bad);
    const now = new Date();
    const row = await this.m.CouponTemplate.create({ ...f, scope: normaliseScope(f.scope), claimed: 0, version: 1, createdAt: now, updatedAt: now });
    return templateDto(row.get({ plain: true }) as CouponTemplateAttrs);
  }

  async template(id: number): Promise<Row<CouponTemplateAttrs>> {
    const row = await this.m.CouponTemplate.findByPk(id);
    if (!row) throw bizError("COUPON_TEMPLATE_NOT_FOUND", undefined, { id });
    return row;
  }

  async listTemplates(page: number, pageSize: number, enabled?: boolean): Promise<Page<CouponTemplateDto>> {
    const { rows, count } = await this.m.CouponTemplate.findAndCountAll({
      where: enabled === undefined ? {} : { enabled },
      order: [["id", "DESC"]],
      limit: pageSize,
      offset: (page - 1) * pageSize,
    });
    return { items: rows.map(templateDto), total: count, page, pageSize };
  }

  /**
   * Change a template's terms. Coupons already claimed keep the terms they were claimed with;
   * the total may not drop below what was claimed (checked in the same UPDATE, so a claim racing
   * the edit cannot slip past it).
   */
  async updateTemplate(id: number, patch: Partial<TemplateFields>): Promise<CouponTemplateDto> {
    for (let attempt = 1; ; attempt++) {
      const row = await this.template(id);
      const next: TemplateFields = { ...fieldsOf(row), ...patch };
      const bad = couponTermsViolation(next);
      if (bad) throw violationError(bad);
      if (next.totalQuantity < row.claimed) throw this.belowClaimed(row.claimed, next.totalQuantity);
      const changed = await this.tx((t) =>
        runUpdate(
          this.db,
          "UPDATE coupon_templates SET name = ?, type = ?, value = ?, threshold = ?, scope = ?, valid_from = ?, valid_to = ?, total_quantity = ?, per_user_limit = ?, enabled = ?, version = version + 1, updated_at = ?" +
            " WHERE id = ? AND version = ? AND claimed <= ?",
          [
            next.name,
            next.type,
            next.value,
            next.threshold,
            JSON.stringify(normaliseScope(next.scope)),
            next.validFrom,
            next.validTo,
            next.totalQuantity,
            next.perUserLimit,
            next.enabled,
            new Date(),
            id,
            row.version,
            next.totalQuantity,
          ],
          t,
        ),
      );
      if (changed === 1) return templateDto(await this.template(id));
      const now = await this.template(id);
      if (now.claimed > next.totalQuantity) throw this.belowClaimed(now.claimed, next.totalQuantity);
      if (attempt >= CAS_ATTEMPTS) throw bizError("CONFLICT", "the template is being edited by someone else; reload it and try again", { id });
    }
  }

  private belowClaimed(claimed: number, total: number) {
    return bizError("COUPON_QUANTITY_BELOW_CLAIMED", `${claimed} coupons were already claimed; the total cannot be ${total}`, { claimed, totalQuantity: total });
  }

  /** Only a template nobody claimed can go; the condition is in the DELETE, so a claim cannot race it. */
  async deleteTemplate(id: number): Promise<{ deleted: boolean }> {
    const deleted = await this.tx((t) => runUpdate(this.db, "DELETE FROM coupon_templates WHERE id = ? AND claimed = 0", [id], t));
    if (deleted === 1) return { deleted: true };
    const row = await this.template(id);
    throw bizError("COUPON_TEMPLATE_IN_USE", `${row.claimed} coupons of this template were claimed: disable it (enabled: false) instead`, { id, claimed: row.claimed });
  }

  // ── claims ─────────────────────────────────────────────────────────────────────────────────

  async claimable(page: number, pageSize: number, now = new Date()): Promise<Page<ClaimableTemplateDto>> {
    const { rows, count } = await this.m.CouponTemplate.findAndCountAll({
      where: { enabled: true, validFrom: { [Op.lte]: now }, validTo: { [Op.gt]: now }, claimed: { [Op.lt]: col("total_quantity") } },
      order: [["id", "DESC"]],
      limit: pageSize,
      offset: (page - 1) * pageSize,
    });
    return { items: rows.map(claimableDto), total: count, page, pageSize };
  }

  async claim(templateId: number, userId: number): Promise<UserCouponDto> {
    const first = await this.template(templateId);
    const closed = claimViolation(first, new Date());
    if (closed) throw bizError(closed.type, closed.message, { id: templateId });
    if (first.claimed >= first.totalQuantity) throw bizError("COUPON_SOLD_OUT", undefined, { id: templateId });
    await this.ensureClaimCounter(templateId, userId);
    try {
      const coupon = await this.tx(async (t) => {
        const now = new Date();
        const took = await runUpdate(
          this.db,
          "UPDATE coupon_templates SET claimed = claimed + 1 WHERE id = ? AND claimed < total_quantity AND enabled = ? AND valid_from <= ? AND valid_to > ?",
          [templateId, true, now, now],
          t,
        );
        if (took !== 1) throw new ClaimLost("total");
        const mine = await runUpdate(
          this.db,
          "UPDATE coupon_claims SET claimed = claimed + 1 WHERE template_id = ? AND user_id = ? AND claimed < (SELECT per_user_limit FROM coupon_templates WHERE id = ?)",
          [templateId, userId, templateId],
          t,
        );
        if (mine !== 1) throw new ClaimLost("user");
        // read after our update: the row is locked by it, so these are the terms we claimed under
        const tpl = (await this.m.CouponTemplate.findByPk(templateId, { transaction: t }))!;
        const claimed = await this.m.UserCoupon.create(
          {
            templateId,
            userId,
            name: tpl.name,
            type: tpl.type,
            value: tpl.value,
            threshold: tpl.threshold,
            scope: normaliseScope(tpl.scope),
            validFrom: tpl.validFrom,
            validTo: tpl.validTo,
            status: "UNUSED",
            orderNo: null,
            createdAt: now,
            updatedAt: now,
          },
          { transaction: t },
        );
        const event: CouponClaimedEvent = { couponId: Number(claimed.id), templateId, userId, name: tpl.name, validTo: new Date(tpl.validTo).toISOString() };
        await this.deps.outbox?.(t, CouponEvents.CLAIMED, event);
        return claimed;
      });
      return couponDto(coupon.get({ plain: true }) as UserCouponAttrs, new Date());
    } catch (err) {
      if (!(err instanceof ClaimLost)) throw err;
      if (err.quota === "user") throw bizError("COUPON_LIMIT_REACHED", `at most ${first.perUserLimit} of this coupon per user`, { id: templateId, perUserLimit: first.perUserLimit });
      const now = await this.template(templateId);
      const why = claimViolation(now, new Date());
      if (why) throw bizError(why.type, why.message, { id: templateId });
      throw bizError("COUPON_SOLD_OUT", undefined, { id: templateId });
    }
  }

  /** UNUSED coupons whose validity ends within (now, before], by id (the expiry reminder pages through them). */
  async expiring(p: ExpiringCouponsParams, now = new Date()): Promise<ExpiringCoupon[]> {
    const rows = await this.m.UserCoupon.findAll({
      attributes: ["id", "userId", "templateId", "name", "validTo"],
      where: { status: "UNUSED", id: { [Op.gt]: p.afterId ?? 0 }, validTo: { [Op.gt]: now, [Op.lte]: new Date(p.before) } },
      order: [["id", "ASC"]],
      limit: p.limit ?? 500,
      raw: true,
    });
    return rows.map((r) => ({ couponId: Number(r.id), userId: Number(r.userId), templateId: Number(r.templateId), name: r.name, validTo: iso(r.validTo) }));
  }

  /** The (template, user) counter row the per-user limit is a compare-and-set on; a no-op once it exists. */
  private async ensureClaimCounter(templateId: number, userId: number): Promise<void> {
    const exists = await this.m.CouponClaim.findOne({ where: { templateId, userId }, attributes: ["claimed"], raw: true });
    if (exists) return;
    try {
      await this.tx((t) => this.m.CouponClaim.bulkCreate([{ templateId, userId, claimed: 0 }], { ignoreDuplicates: true, transaction: t }));
    } catch (err) {
      // the template was deleted meanwhile (the counter references it)
      if ((err as { name?: string })?.name === "SequelizeForeignKeyConstraintError") throw bizError("COUPON_TEMPLATE_NOT_FOUND", undefined, { id: templateId });
      throw err;
    }
  }

  /** UNUSED shows only coupons still valid; EXPIRED the UNUSED ones past validTo (computed, never stored). */
  async mine(userId: number, status: CouponStatus | undefined, page: number, pageSize: number, now = new Date()): Promise<Page<UserCouponDto>> {
    const where: Record<string, unknown> = { userId };
    if (status === "UNUSED") Object.assign(where, { status: "UNUSED", validTo: { [Op.gt]: now } });
    else if (status === "EXPIRED") Object.assign(where, { status: "UNUSED", validTo: { [Op.lte]: now } });
    else if (status) where.status = status;
    const { rows, count } = await this.m.UserCoupon.findAndCountAll({ where, order: [["id", "DESC"]], limit: pageSize, offset: (page - 1) * pageSize });
    return { items: rows.map((r) => couponDto(r.get({ plain: true }) as UserCouponAttrs, now)), total: count, page, pageSize };
  }

  // ── holds (checkout, payment, cancellation) ────────────────────────────────────────────────

  /** The user's own coupon, or COUPON_NOT_FOUND: another user's coupon is never revealed. */
  private async own(userId: number, couponId: number, t?: Transaction): Promise<UserCouponAttrs> {
    const c = await this.m.UserCoupon.findByPk(couponId, { raw: true, transaction: t });
    if (!c || Number(c.userId) !== userId) throw bizError("COUPON_NOT_FOUND", undefined, { couponId });
    return c;
  }

  /** Can `orderNo` use this coupon now? A refusal becomes its typed error. */
  private usable(c: UserCouponAttrs, orderNo?: string) {
    const u = usability({ ...c, validFrom: new Date(c.validFrom), validTo: new Date(c.validTo) }, new Date(), orderNo);
    if (u.kind === "refused") throw bizError(u.type, u.message, { couponId: Number(c.id), reason: u.reason });
    return u;
  }

  /** The coupon as checkout may use it now (or held by `orderNo` already), else why not. */
  async offer(userId: number, couponId: number, orderNo?: string): Promise<CouponOffer> {
    const c = await this.own(userId, couponId);
    this.usable(c, orderNo);
    return couponOffer(c);
  }

  /** UNUSED → LOCKED for `orderNo`. The same order again: answered as held, nothing changes. */
  async lock(userId: number, couponId: number, orderNo: string): Promise<CouponHold> {
    for (let attempt = 1; ; attempt++) {
      const now = new Date();
      const locked = await this.tx((t) =>
        runUpdate(
          this.db,
          "UPDATE user_coupons SET status = 'LOCKED', order_no = ?, locked_at = ?, updated_at = ? WHERE id = ? AND user_id = ? AND status = 'UNUSED' AND valid_from <= ? AND valid_to > ?",
          [orderNo, now, now, couponId, userId, now, now],
          t,
        ),
      );
      if (locked === 1) return { couponId, orderNo, status: "LOCKED" };
      const u = this.usable(await this.own(userId, couponId), orderNo);
      if (u.kind === "held") return { couponId, orderNo, status: u.status };
      // released between our update and the read: try again
      if (attempt >= CAS_ATTEMPTS) throw bizError("COUPON_NOT_APPLICABLE", "the coupon is changing hands; try again", { couponId, reason: "IN_USE" });
    }
  }

  /** LOCKED → UNUSED for whatever `orderNo` holds; nothing held (already given back, never taken) is fine. */
  async release(orderNo: string): Promise<number> {
    return this.tx((t) => this.giveBack(t, orderNo));
  }

  async giveBack(t: Transaction, orderNo: string, couponId?: number): Promise<number> {
    return runUpdate(
      this.db,
      "UPDATE user_coupons SET status = 'UNUSED', order_no = NULL, locked_at = NULL, updated_at = ? WHERE order_no = ? AND status = 'LOCKED'" + (couponId ? " AND id = ?" : ""),
      couponId ? [new Date(), orderNo, couponId] : [new Date(), orderNo],
      t,
    );
  }

  /**
   * LOCKED → USED for the order that paid. Returns the coupon's state when it was not LOCKED by
   * that order (already USED by it is the normal repeat; anything else is for the log).
   */
  async redeem(t: Transaction, couponId: number, orderNo: string, userId: number): Promise<{ used: boolean; state?: { status: string; orderNo: string | null } }> {
    const now = new Date();
    const used = await runUpdate(
      this.db,
      "UPDATE user_coupons SET status = 'USED', used_at = ?, updated_at = ? WHERE id = ? AND user_id = ? AND order_no = ? AND status = 'LOCKED'",
      [now, now, couponId, userId, orderNo],
      t,
    );
    if (used === 1) return { used: true };
    const [row] = await this.db.query<{ status: string; order_no: string | null }>("SELECT status, order_no FROM user_coupons WHERE id = ?", {
      replacements: [couponId],
      transaction: t,
      type: QueryTypes.SELECT,
    });
    return { used: false, state: row ? { status: row.status, orderNo: row.order_no } : undefined };
  }
}
