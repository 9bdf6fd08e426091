/**
 * The typed client both web apps use for the REST API (API.md), generated types from
 * api-types.ts (`npm run web:api-types`) with openapi-fetch:
 *
 *   const mall = createMallClient({ storageKey: "mall.storefront" });
 *   const page = await mall.call(mall.api.GET("/api/v1/products", { params: { query: { q: "西红柿" } } }));
 *
 * `call` unwraps the envelope (`data`) or throws an ApiError (errors.ts turns it into words).
 * Signed-in requests carry the access token; a 401 rotates the refresh token once — shared by
 * every request that hit it at the same moment — and repeats the request; a refused refresh
 * ends the session (listeners of `mall.session` hear "expired").
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./api-types";
import { ApiError, type ErrorEnvelope } from "./errors";
import { Session, type SessionUser } from "./session";

export type Schemas = components["schemas"];
export type { paths, components };

/** The `data` of a successful envelope. */
type DataOf<R> = R extends { data: infer D } ? D : never;

export interface MallClientOptions {
  /** origin of the gateway; "" = the page's own origin (the gateway serves the apps) */
  baseUrl?: string;
  /** localStorage key of this app's session */
  storageKey: string;
  fetch?: typeof fetch;
}

const NO_REFRESH = /\/api\/v1\/auth\/(login|register|refresh)$/;

/** A fresh key for one attempt of a create (a double click or a retry of that attempt reuses it). */
export function idempotencyKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

async function envelopeOf(res: Response): Promise<Partial<ErrorEnvelope> | null> {
  try {
    return (await res.clone().json()) as Partial<ErrorEnvelope>;
  } catch {
    return null;
  }
}

export function createMallClient(opts: MallClientOptions) {
  const baseUrl = opts.baseUrl ?? "";
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  const session = new Session(opts.storageKey, async (refreshToken) => {
    const res = await doFetch(`${baseUrl}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken }),
    });
    if (res.ok) return ((await res.json()) as { data: { accessToken: string; refreshToken: string; expiresIn: number } }).data;
    // a refused refresh token ends the session; a server in trouble does not
    if (res.status === 400 || res.status === 401 || res.status === 403 || res.status === 422) return null;
    throw new ApiError(res.status, await envelopeOf(res));
  });

  const withToken = (request: Request, token: string | null): Request => {
    const headers = new Headers(request.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return new Request(request, { headers });
  };

  async function authedFetch(request: Request): Promise<Response> {
    const token = session.accessToken();
    const retry = token && !NO_REFRESH.test(new URL(request.url, "http://x").pathname) ? request.clone() : null;
    const res = await doFetch(withToken(request, token));
    if (res.status !== 401 || !retry) return res;
    const fresh = await session.refresh(token);
    if (!fresh) return res;
    const again = await doFetch(withToken(retry, fresh));
    // a brand-new token refused: the account was disabled or every session revoked
    if (again.status === 401) session.signOut("expired");
    return again;
  }

  const api = createClient<paths>({ baseUrl, fetch: authedFetch });

  /** The envelope's `data`, or an ApiError (status 0 = the network failed). */
  async function call<R extends { data?: unknown; error?: unknown; response: Response }>(pending: Promise<R>): Promise<DataOf<NonNullable<R["data"]>>> {
    let r: R;
    try {
      r = await pending;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(0, { message: (err as Error)?.message });
    }
    if (!r.response.ok) throw new ApiError(r.response.status, (r.error as Partial<ErrorEnvelope>) ?? null);
    return (r.data as { data: DataOf<NonNullable<R["data"]>> }).data;
  }

  /**
   * For endpoints API.md promises but this build's generated types do not have yet (a service
   * still on its way): same auth, refresh and envelope handling, typed by the caller.
   */
  async function raw<T>(method: string, path: string, init: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined && v !== "") qs.set(k, String(v));
    const url = `${baseUrl}${path}${qs.size ? `?${qs}` : ""}`;
    const headers = new Headers(init.headers);
    if (init.body !== undefined) headers.set("content-type", "application/json");
    let res: Response;
    try {
      res = await authedFetch(new Request(new URL(url, globalThis.location?.href ?? "http://localhost"), { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) }));
    } catch (err) {
      throw new ApiError(0, { message: (err as Error)?.message });
    }
    const body = await envelopeOf(res);
    if (!res.ok) throw new ApiError(res.status, body);
    return (body as { data: T } | null)?.data as T;
  }

  async function login(username: string, password: string) {
    const data = await call(api.POST("/api/v1/auth/login", { body: { username, password } }));
    session.signIn(data, data.user as unknown as SessionUser);
    return data;
  }

  async function logout() {
    try {
      if (session.accessToken()) await call(api.POST("/api/v1/auth/logout"));
    } catch {
      /* the session ends here whatever the server says */
    } finally {
      session.signOut();
    }
  }

  return { api, call, raw, session, login, logout, idempotencyKey };
}

export type MallClient = ReturnType<typeof createMallClient>;
