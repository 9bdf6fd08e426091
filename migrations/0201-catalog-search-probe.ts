/**
 * Multi-word search probes each further term per candidate product: index the term table by
 * (product_id, term, weight) so a probe is one index seek with the weight in the index.
 */
import { QueryInterface } from "sequelize";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.removeIndex("product_search_terms", "search_terms_product");
  await qi.addIndex("product_search_terms", ["product_id", "term", "weight"], { name: "search_terms_product" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.removeIndex("product_search_terms", "search_terms_product");
  await qi.addIndex("product_search_terms", ["product_id"], { name: "search_terms_product" });
}
