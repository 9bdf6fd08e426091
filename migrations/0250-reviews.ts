/**
 * Review aggregates: `rating_sum` lets a new review update the product's average in one
 * statement (`rating_sum + r`, `review_count + 1`) instead of re-averaging a float. Existing
 * rows are back-filled from their current average.
 */
import { DataTypes, QueryInterface } from "sequelize";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.addColumn("products", "rating_sum", { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 });
  await qi.sequelize.query("UPDATE products SET rating_sum = ROUND(rating * review_count) WHERE review_count > 0");
  await qi.addIndex("reviews", ["user_id", "id"], { name: "reviews_user" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.removeIndex("reviews", "reviews_user");
  await qi.removeColumn("products", "rating_sum");
}
