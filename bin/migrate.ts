/**
 * `npm run migrate`: create the database named in DATABASE_URL (and any <SERVICE>_DATABASE_URL)
 * if missing and apply pending migrations.
 */
import { getConfig } from "../services/shared/config";
import { availableServices, databaseUrls } from "../services/shared/broker";
import { migrate } from "../services/shared/migrator";

async function main() {
  const cfg = getConfig();
  for (const url of databaseUrls(cfg, availableServices())) {
    const applied = await migrate(url);
    const shown = url.replace(/\/\/([^:@/]+):([^@/]+)@/, "//$1:***@");
    console.log(applied.length ? `${shown}: applied ${applied.join(", ")}` : `${shown}: up to date`);
  }
}

main().catch((err) => {
  console.error("migration failed:", err);
  process.exit(1);
});
