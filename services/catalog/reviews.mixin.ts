/**
 * Writing reviews (mixed into the catalog service; the catalog owns `reviews` and the product's
 * rating columns, and already serves GET /products/:id/reviews). Only the buyer of a COMPLETED
 * order may review a line of it, once: orders.reviewable checks ownership and status, the unique
 * key (order_no, sku_id) makes "once" hold under concurrency. The product's aggregates move with
 * atomic increments (`rating_sum + r`, `review_count + 1`) and the average is recomputed from
 * them in the same transaction.
 */
import type { ServiceSchema } from "moleculer";
import { QueryTypes } from "sequelize";
import { isUniqueViolation, runUpdate } from "../shared/db";
import { bizError } from "../shared/errors";
import { keys } from "./cache";
import { ReviewDto, ReviewSchema } from "./catalog.contracts";
import type { CatalogService, Ctx } from "./catalog-types";
import { callAction } from "../shared/actions";
import { OrderCalls } from "../orders/orders.contracts";
import { created as answerCreated } from "../shared/created";

export interface CreateReviewParams {
  id: number;
  orderNo: string;
  skuId: number;
  rating: number;
  content: string;
}

export const ReviewsMixin = {
  actions: {
    createReview: {
      rest: "POST /products/:id/reviews",
      idempotent: true,
      openapi: { status: 201, response: ReviewSchema, errors: ["SKU_NOT_FOUND", "ORDER_NOT_FOUND", "ORDER_LINE_NOT_FOUND", "REVIEW_NOT_ALLOWED", "REVIEW_EXISTS"] },
      summary: "Review a line of my COMPLETED order (once per order line)",
      params: {
        id: { type: "number", integer: true, positive: true, convert: true },
        orderNo: { type: "string", min: 1, max: 32, trim: true },
        skuId: { type: "number", integer: true, positive: true },
        rating: { type: "number", integer: true, min: 1, max: 5 },
        content: { type: "string", min: 1, max: 2000, trim: true },
      },
      async handler(this: CatalogService, ctx: Ctx<CreateReviewParams>): Promise<ReviewDto> {
        const userId = ctx.meta.user!.id;
        const { id: productId, orderNo, skuId, rating, content } = ctx.params;
        const sku = await this.models.Sku.findOne({ where: { id: skuId, productId } });
        if (!sku) throw bizError("SKU_NOT_FOUND", `product ${productId} has no SKU ${skuId}`, { productId, skuId });
        await callAction(ctx, OrderCalls.reviewable, { userId, orderNo, skuId });
        const reviewId = await this.tx(async (t) => {
          let created;
          try {
            created = await this.models.Review.create({ productId, skuId, userId, orderNo, rating, content }, { transaction: t });
          } catch (err) {
            if (isUniqueViolation(err)) throw bizError("REVIEW_EXISTS", undefined, { orderNo, skuId });
            throw err;
          }
          const s = this.sequelize;
          // rows loaded in bulk (demo seed) carry an average but no sum yet
          await runUpdate(s, "UPDATE products SET rating_sum = ROUND(rating * review_count) WHERE id = ? AND rating_sum = 0 AND review_count > 0", [productId], t);
          await runUpdate(s, "UPDATE products SET rating_sum = rating_sum + ?, review_count = review_count + 1 WHERE id = ?", [rating, productId], t);
          await runUpdate(s, "UPDATE products SET rating = ROUND(rating_sum * 1.0 / review_count, 2) WHERE id = ? AND review_count > 0", [productId], t);
          return Number((created.get() as { id: number }).id);
        });
        await this.cache.invalidate([keys.detail(productId)], ["catalog.list:*"]);
        answerCreated(ctx, `/products/${productId}/reviews`);
        const [row] = await this.sequelize.query<{ id: number; created_at: Date | string }>("SELECT id, created_at FROM reviews WHERE id = ?", {
          replacements: [reviewId],
          type: QueryTypes.SELECT,
        });
        return { id: reviewId, productId, skuId, orderNo, rating, content, createdAt: new Date(row.created_at).toISOString() };
      },
    },
  },
};

export default ReviewsMixin as unknown as ServiceSchema;
