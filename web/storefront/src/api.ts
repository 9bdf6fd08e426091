/** The storefront's one API client and the hooks pages use around it. */
import { useSyncExternalStore } from "react";
import { useTranslation } from "react-i18next";
import { createMallClient, errorMessage, type Lang, type SessionState } from "../../shared";

export const mall = createMallClient({ storageKey: "mall.storefront.session" });
export const { api, call, raw } = mall;

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

/** Seckill and inbox types from API.md (their services are not in this build's generated types yet). */
export interface SeckillEvent {
  id: number;
  skuId: number;
  productId?: number;
  title: string;
  price: number;
  originalPrice?: number;
  currency?: string;
  quantity: number;
  remaining: number;
  perUserLimit: number;
  startAt: string;
  endAt: string;
  status?: string;
  imageUrl?: string | null;
}
export interface SeckillTicket {
  status: "QUEUED" | "SUCCEEDED" | "FAILED";
  orderNo?: string;
  reason?: string;
}
export interface InboxMessage {
  id: number;
  subject: string;
  body: string;
  read: boolean;
  createdAt: string;
  link?: string | null;
}
export interface Inbox {
  items: InboxMessage[];
  total: number;
  unread: number;
}
