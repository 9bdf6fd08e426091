/** The catalog service's `this` and request meta, shared by its handler modules. */
import type { Context, Service } from "moleculer";
import type { DbService } from "../../mixins/db.mixin";
import type { CatalogModels } from "../../models/catalog";
import type { MallConfig } from "../shared/config";
import type { AuthUser } from "../shared/tokens";
import type { CatalogCache } from "./cache";
import type { Reader } from "./read-pool";
import type { SearchGate } from "./search-gate";

export interface CatalogMeta {
  user?: AuthUser | null;
  $statusCode?: number;
  $responseType?: string;
  $responseHeaders?: Record<string, string>;
  $raw?: boolean;
}

export type Ctx<P = Record<string, unknown>> = Context<P, CatalogMeta>;

export type CatalogService = Service &
  DbService<CatalogModels> & {
    cfg: MallConfig;
    cache: CatalogCache;
    reader: Reader;
    /** admission for uncached list/search queries (search-gate.ts) */
    searchGate: SearchGate;
    seeding: Promise<unknown> | null;
    stopping: boolean;
  };

/** Operators and admins see off-sale products; customers and anonymous visitors do not. */
export function isStaff(ctx: Ctx<unknown>): boolean {
  const roles = ctx.meta.user?.roles ?? [];
  return roles.includes("admin") || roles.includes("operator");
}
