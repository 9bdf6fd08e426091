/**
 * What every browser test gets: `baseURL` = the shop global-setup.ts started, a `shot(name)`
 * that saves a numbered screenshot of the step (test-results/browser/<test>/NN-name.png, also
 * attached to the report), a guard that fails the test on any page error or console error
 * (a Content-Security-Policy violation shows up there), and `api` helpers that talk to the shop
 * directly for setup (admin login, seeding a coupon) without clicking through the console.
 */
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";

export interface Shot {
  (name: string): Promise<void>;
}

export const test = base.extend<{ shot: Shot; pageErrors: string[] }>({
  baseURL: async ({}, use) => {
    const url = process.env.MALL_URL;
    if (!url) throw new Error("MALL_URL is not set: run the browser tests through playwright.config.ts (npm run test:browser)");
    await use(url);
  },
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        const text = msg.text();
        // an API answer the page handles (a 401 before refresh, a 404 it explains) is logged by
        // Chromium as "Failed to load resource": that is not a fault of the page
        if (/Failed to load resource: the server responded with a status of (4\d\d)/.test(text)) return;
        errors.push(`console: ${text}`);
      });
      await use(errors);
      expect(errors, "errors in the page").toEqual([]);
    },
    { auto: true },
  ],
  shot: async ({ page }, use, testInfo) => {
    let n = 0;
    await use(async (name: string) => {
      n++;
      const file = testInfo.outputPath(`${String(n).padStart(2, "0")}-${name.replace(/[^\w.-]+/g, "-")}.png`);
      await page.screenshot({ path: file, fullPage: true });
      await testInfo.attach(name, { path: file, contentType: "image/png" });
    });
  },
});

export { expect, type Page };

/** JSON call to the shop's API outside the page (test setup), unwrapping the envelope. */
export async function apiCall<T = any>(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const res = await fetch(`${process.env.MALL_URL}/api/v1${path}`, {
    method,
    headers: { ...(opts.body !== undefined ? { "content-type": "application/json" } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const body = (await res.json().catch(() => null)) as { data: T } | null;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(body)}`);
  return body!.data;
}

export async function adminToken(): Promise<string> {
  const data = await apiCall<{ accessToken: string }>("POST", "/auth/login", {
    body: { username: process.env.MALL_ADMIN_USERNAME, password: process.env.MALL_ADMIN_PASSWORD },
  });
  return data.accessToken;
}

/** axe-core's serious and critical violations on the page as it is now, one line each (none = []). */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  // a toast fading in or out is half transparent: axe would read its text as too faint. Waiting
  // for the fade classes was not enough: a toast still showing starts to leave while axe runs
  // (a CI rehearsal failed so on a success message). Toasts close by themselves (3 s, 4.5 s for
  // notifications): wait until none is left.
  await expect(page.locator(".ant-message-notice, .ant-notification-notice")).toHaveCount(0, { timeout: 10_000 });
  // so is a drawer or a dialog still zooming in (the delivery log's dialog failed colour-contrast
  // once, on a faster machine): wait for every finite CSS animation and transition to finish
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running" || a.effect?.getTiming().iterations === Infinity), undefined, {
    timeout: 10_000,
  });
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
}
