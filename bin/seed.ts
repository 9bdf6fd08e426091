/**
 * `npm run seed`: load the demo catalog (categories, brands, 48 products with stock) into the
 * configured database, whatever SEED_DEMO says — but never twice: a marker row records it.
 *
 * Embedded (no TRANSPORTER): runs catalog and inventory in this process against DATABASE_URL
 * (stop `npm start` first: both would write the same SQLite file).
 * Cluster (TRANSPORTER set): runs a catalog node that joins the cluster and gives the demo SKUs
 * their stock through the cluster's inventory service.
 */
import { ConfigError, getConfig, parseConfig } from "../services/shared/config";
import { availableServices, databaseUrls, startNode } from "../services/shared/broker";
import { migrate } from "../services/shared/migrator";
import type { SeedResult } from "../services/catalog/seed";

async function main() {
  let base;
  try {
    base = getConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const services = base.transporter || !availableServices().includes("inventory") ? ["catalog"] : ["catalog", "inventory"];
  const cfg = parseConfig({
    ...process.env,
    SERVICES: services.join(","),
    SEED_DEMO: "false", // seeded explicitly below, once
    MIGRATE_ON_START: "false",
    METRICS_PORT: "off",
    NODE_ID: `seed-${process.pid}`,
  });
  for (const url of databaseUrls(cfg, services)) await migrate(url);
  const { broker } = await startNode(cfg);
  try {
    const result = await broker.call<SeedResult, { force: boolean }>("catalog.seedDemo", { force: true }, { nodeID: broker.nodeID, timeout: 120_000 });
    if (result.products) console.log(`demo catalog loaded: ${result.products} products, ${result.skus} SKUs`);
    else console.log(`demo catalog not loaded: ${result.skipped}`);
    console.log(result.stockInitialised ? `stock set for ${result.stockInitialised} SKUs` : "stock: nothing to do (already set, or inventory unavailable — see warnings)");
  } finally {
    await broker.stop();
  }
}

main().catch((err) => {
  console.error("seed failed:", err?.message ?? err);
  process.exit(1);
});
