/**
 * The console's API access: the shared typed client (web/shared) with its own session key, plus
 * small helpers the pages share. Every rule is the server's: the console only hides what a role
 * cannot do, the gateway refuses it anyway.
 */
import { createMallClient, errorMessage, formatMoney, idempotencyKey, isApiError } from "../../shared";

export const mall = createMallClient({ storageKey: "mall.admin" });
export { idempotencyKey, isApiError };

export const money = (fen: number | null | undefined, currency = "CNY") => formatMoney(fen, currency, "en");

/** A sentence for an error, with the server's own message when it says more than the type. */
export function describe(err: unknown): string {
  const words = errorMessage(err, "en");
  if (isApiError(err) && err.message && !/^(ok|validation failed)$/i.test(err.message) && !words.includes(err.message)) return `${words} (${err.message})`;
  return words;
}

export type Role = "customer" | "operator" | "admin";
export const hasRole = (roles: string[] | undefined, ...wanted: Role[]) => !!roles?.some((r) => wanted.includes(r as Role));
export const isStaff = (roles: string[] | undefined) => hasRole(roles, "operator", "admin");
export const isAdmin = (roles: string[] | undefined) => hasRole(roles, "admin");

/** Upload an image (multipart) and get its public URL. */
export async function uploadImage(file: File): Promise<string> {
  const body = new FormData();
  body.append("file", file);
  const send = (token: string | null) => fetch("/api/v1/uploads", { method: "POST", body, headers: token ? { authorization: `Bearer ${token}` } : {} });
  let res = await send(mall.session.accessToken());
  if (res.status === 401) {
    const fresh = await mall.session.refresh(mall.session.accessToken());
    if (fresh) res = await send(fresh);
  }
  const json = (await res.json().catch(() => null)) as { data?: { url: string }; message?: string } | null;
  if (!res.ok || !json?.data) throw new Error(json?.message ?? `upload failed (${res.status})`);
  return json.data.url;
}

/** Local date YYYY-MM-DD of a Date in the browser's zone (the console shows dates, the shop counts in its own zone). */
export const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString("en-GB", { hour12: false }) : "—");

/** Solid tag colours with white text at WCAG AA contrast (antd's light presets are not). */
export const TAG: Record<string, string | undefined> = {
  green: "#237804",
  blue: "#0958d9",
  gold: "#874d00",
  cyan: "#006d75",
  orange: "#ad4e00",
  purple: "#531dab",
  red: "#a8071a",
  default: undefined,
};
