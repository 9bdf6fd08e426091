import "moleculer";

declare module "moleculer" {
  interface ServiceSchema {
    adapter?: unknown;
    model?: unknown;
    channels?: Record<string, unknown>;
    merged?: (schema: ServiceSchema) => void;
    hooks?: Record<string, unknown>;
  }
  interface ActionSchema {
    /** "required" (default for gateway routes), "optional" or false (public) */
    auth?: "required" | "optional" | false;
    /** roles allowed to call this action through the gateway; any authenticated user if absent */
    roles?: string[];
    /** OpenAPI summary shown in /api/docs */
    summary?: string;
    tags?: string[];
    /** the gateway passes the raw JSON body (ctx.meta.rawBody) and X-* headers (ctx.meta.headers) */
    rawBody?: boolean;
    /** false: the gateway's client rate limit does not count calls to it (signed provider callbacks) */
    rateLimit?: false;
    /** Idempotency-Key applies: the first answer is replayed (mixins/idempotency.middleware.ts) */
    idempotent?: boolean;
    /** what the OpenAPI document says beyond params, auth and roles: success status, response schema, headers, errors */
    openapi?: import("../services/shared/schema").OpenApiMeta;
  }
}
