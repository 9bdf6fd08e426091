/** The storefront's one API client and the hooks pages use around it. */
import { useSyncExternalStore } from "react";
import { useTranslation } from "react-i18next";
import { createMallClient, errorMessage, type Lang, type Schemas, type SessionState } from "../../shared";

export const mall = createMallClient({ storageKey: "mall.storefront.session" });
export const { api, call } = mall;

export function useSession(): SessionState {
  return useSyncExternalStore(
    (cb) => mall.session.subscribe(cb),
    () => mall.session.get(),
  );
}

/** `err` in the current language's words. */
export function useErrorText(): (err: unknown) => string {
  const { i18n } = useTranslation();
  return (err) => errorMessage(err, (i18n.language === "en" ? "en" : "zh-CN") as Lang);
}

/** Yuan typed by a buyer → fen (undefined when empty or not a number). */
export function yuanToFen(v: string): number | undefined {
  if (!v.trim()) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 100) : undefined;
}

/** Flash sales and the inbox, as the seckill and messages services answer them (generated types). */
export type SeckillEvent = Schemas["SeckillEvent"];
export type SeckillTicket = Schemas["SeckillTicket"];
export type Inbox = Schemas["InboxPage"];
export type InboxMessage = Schemas["InboxMessage"];

/**
 * Where an inbox message's `link` leads in the storefront: messages link to storefront paths
 * (`/orders/<no>`, `/account/coupons`); messages stored before coupon links were fixed point at
 * the API path `/users/me/coupons`, shown under the account too. Anything that is not a
 * storefront path: no link.
 */
export function inboxLink(link: string | null | undefined): string | null {
  if (!link || !link.startsWith("/") || link.startsWith("//")) return null;
  if (link === "/users/me/coupons" || link.startsWith("/users/me/coupons?")) return "/account/coupons";
  if (link.startsWith("/api/") || link.startsWith("/users/")) return null;
  return link;
}
