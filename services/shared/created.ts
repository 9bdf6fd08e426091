/**
 * 201 Created with a Location header (RFC 9110 §15.3.2): where the client reads what it has just
 * created — the resource itself where the API has a GET for it, else the collection that lists
 * it. Without a Location, moleculer-web also logs a warning for every 201 it sends.
 */

/** The gateway's API route (services/api mounts it here); Location is an absolute path under it. */
export const API_BASE = "/api/v1";

export function created(ctx: { meta: { $statusCode?: number; $location?: string } }, path: string): void {
  ctx.meta.$statusCode = 201;
  ctx.meta.$location = API_BASE + path;
}
