/**
 * What a request carries through the broker (`ctx.meta`): set by the gateway (services/api) from
 * the HTTP request, read by every service's actions, and the response hints actions give back.
 */
import type { AuthUser } from "./tokens";

export interface Meta {
  user?: AuthUser;
  clientIp?: string;
  idempotencyKey?: string;
  requestId?: string;
  $statusCode?: number;
  $responseType?: string;
  $responseHeaders?: Record<string, string>;
  /** the created resource's URL, sent as Location with a 201 (see created()) */
  $location?: string;
  $raw?: boolean;
  /** actions declaring `rawBody: true` only: the body as received and the request's X-* headers */
  rawBody?: string;
  headers?: Record<string, string>;
}
