/**
 * Marketing: coupon templates, the per-(template, user) claim counters, the coupons users hold,
 * and promotions. Points have their own migration (0710).
 *
 * Quotas are enforced by conditional UPDATEs (services/marketing/coupon-store.ts) and, as a last
 * line, by the database: `0 <= claimed <= total_quantity` on a template. A coupon row references
 * its template without cascade, so a template with claimed coupons cannot be deleted even by a
 * statement that forgot to check; the claim counters go with their template.
 */
import { DataTypes, Op, QueryInterface, col } from "sequelize";
import { money, pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  const name = { type: DataTypes.STRING(64), allowNull: false };
  const kind = { type: DataTypes.STRING(16), allowNull: false };
  const json = { type: DataTypes.TEXT, allowNull: false };
  const at = { type: DataTypes.DATE, allowNull: false };
  const enabled = { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true };
  const version = { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 };

  await qi.createTable("coupon_templates", {
    id: pk(qi),
    name,
    type: kind,
    value: money(false, undefined),
    threshold: money(),
    scope: json,
    valid_from: at,
    valid_to: at,
    total_quantity: { type: DataTypes.INTEGER, allowNull: false },
    claimed: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    per_user_limit: { type: DataTypes.INTEGER, allowNull: false },
    enabled,
    version,
    ...timestamps(),
  });
  await qi.addConstraint("coupon_templates", {
    type: "check",
    name: "coupon_templates_claimed_range",
    fields: ["claimed"],
    where: { claimed: { [Op.gte]: 0, [Op.lte]: col("total_quantity") } },
  });
  await qi.addIndex("coupon_templates", ["enabled", "valid_to"], { name: "coupon_templates_claimable" });

  await qi.createTable("coupon_claims", {
    template_id: { ...ref(qi), primaryKey: true, references: { model: "coupon_templates", key: "id" }, onDelete: "CASCADE" },
    user_id: { ...ref(qi), primaryKey: true },
    claimed: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await qi.addConstraint("coupon_claims", {
    type: "check",
    name: "coupon_claims_claimed_range",
    fields: ["claimed"],
    where: { claimed: { [Op.gte]: 0 } },
  });

  await qi.createTable("user_coupons", {
    id: pk(qi),
    template_id: { ...ref(qi), references: { model: "coupon_templates", key: "id" }, onDelete: "RESTRICT" },
    user_id: ref(qi),
    name,
    type: kind,
    value: money(false, undefined),
    threshold: money(),
    scope: json,
    valid_from: at,
    valid_to: at,
    status: kind,
    order_no: { type: DataTypes.STRING(32), allowNull: true },
    locked_at: { type: DataTypes.DATE, allowNull: true },
    used_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("user_coupons", ["user_id", "status", "id"], { name: "user_coupons_user" });
  await qi.addIndex("user_coupons", ["order_no"], { name: "user_coupons_order" });
  await qi.addIndex("user_coupons", ["template_id"], { name: "user_coupons_template" });

  await qi.createTable("promotions", {
    id: pk(qi),
    name,
    type: kind,
    rules: json,
    scope: json,
    start_at: at,
    end_at: at,
    enabled,
    version,
    ...timestamps(),
  });
  await qi.addIndex("promotions", ["enabled", "end_at"], { name: "promotions_active" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("promotions");
  await qi.dropTable("user_coupons");
  await qi.dropTable("coupon_claims");
  await qi.dropTable("coupon_templates");
}
