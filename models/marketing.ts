/**
 * Sequelize models of the marketing service's coupons and promotions (tables created by
 * migrations/0700-marketing.ts; points have their own file). Quotas (`claimed`), per-user counters
 * and coupon statuses only ever change through the conditional UPDATEs in services/marketing; the
 * models are for reads and inserts.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import type { CouponType, OfferScope, PromotionRule, PromotionType } from "../services/marketing/marketing.contracts";
import { Row, bigintNumber, idType, jsonColumn } from "./helpers";

/** A coupon's terms: set on the template, copied onto each coupon when it is claimed. */
export interface CouponTerms {
  name: string;
  type: CouponType;
  value: number;
  threshold: number;
  scope: OfferScope;
  validFrom: Date;
  validTo: Date;
}

export interface CouponTemplateAttrs extends CouponTerms {
  id: number;
  totalQuantity: number;
  claimed: number;
  perUserLimit: number;
  enabled: boolean;
  /** bumped by every admin edit: edits are compare-and-set on it */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** How many coupons of a template one user has claimed: the row the per-user limit is a CAS on. */
export interface CouponClaimAttrs {
  templateId: number;
  userId: number;
  claimed: number;
}

/** A claimed coupon, with the template's terms as they were when it was claimed. */
export interface UserCouponAttrs extends CouponTerms {
  id: number;
  templateId: number;
  userId: number;
  /** UNUSED, LOCKED or USED; EXPIRED is never stored (computed from validTo on read) */
  status: string;
  orderNo: string | null;
  lockedAt: Date | null;
  usedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PromotionAttrs {
  id: number;
  name: string;
  type: PromotionType;
  rules: PromotionRule[];
  scope: OfferScope;
  startAt: Date;
  endAt: Date;
  enabled: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export function defineMarketingModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const CouponTemplate = sequelize.define<Row<CouponTemplateAttrs>>(
    "CouponTemplate",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      name: DataTypes.STRING,
      type: DataTypes.STRING,
      value: bigintNumber("value"),
      threshold: bigintNumber("threshold"),
      scope: jsonColumn("scope", {}, false),
      validFrom: DataTypes.DATE,
      validTo: DataTypes.DATE,
      totalQuantity: DataTypes.INTEGER,
      claimed: DataTypes.INTEGER,
      perUserLimit: DataTypes.INTEGER,
      enabled: DataTypes.BOOLEAN,
      version: DataTypes.INTEGER,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "coupon_templates" },
  ) as ModelStatic<Row<CouponTemplateAttrs>>;
  const CouponClaim = sequelize.define<Row<CouponClaimAttrs>>(
    "CouponClaim",
    {
      templateId: { type: id, primaryKey: true },
      userId: { type: id, primaryKey: true },
      claimed: DataTypes.INTEGER,
    },
    { ...opts, tableName: "coupon_claims", timestamps: false },
  ) as ModelStatic<Row<CouponClaimAttrs>>;
  const UserCoupon = sequelize.define<Row<UserCouponAttrs>>(
    "UserCoupon",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      templateId: id,
      userId: id,
      name: DataTypes.STRING,
      type: DataTypes.STRING,
      value: bigintNumber("value"),
      threshold: bigintNumber("threshold"),
      scope: jsonColumn("scope", {}, false),
      validFrom: DataTypes.DATE,
      validTo: DataTypes.DATE,
      status: DataTypes.STRING,
      orderNo: DataTypes.STRING,
      lockedAt: DataTypes.DATE,
      usedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "user_coupons" },
  ) as ModelStatic<Row<UserCouponAttrs>>;
  const Promotion = sequelize.define<Row<PromotionAttrs>>(
    "Promotion",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      name: DataTypes.STRING,
      type: DataTypes.STRING,
      rules: jsonColumn("rules", [], false),
      scope: jsonColumn("scope", {}, false),
      startAt: DataTypes.DATE,
      endAt: DataTypes.DATE,
      enabled: DataTypes.BOOLEAN,
      version: DataTypes.INTEGER,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "promotions" },
  ) as ModelStatic<Row<PromotionAttrs>>;
  return { CouponTemplate, CouponClaim, UserCoupon, Promotion };
}
export type MarketingModels = ReturnType<typeof defineMarketingModels>;
