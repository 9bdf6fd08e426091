/**
 * Browser tests (test/browser/*.spec.ts; the console's are admin-*.spec.ts): Playwright drives
 * Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH) — no browser download. The global
 * setup starts the embedded shop (`bin/start.ts`: builds the web apps when stale) on a free
 * port with its own data folder; tests get its URL as baseURL. `npm test` runs these after jest.
 * Screenshots of every step land in test-results/browser/ (gitignored).
 */
import fs from "node:fs";
import { defineConfig } from "@playwright/test";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (!fs.existsSync(CHROMIUM_PATH)) {
  // never skip: a machine without the browser cannot say the storefront works
  throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
}

export default defineConfig({
  testDir: "test/browser",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results/browser",
  globalSetup: "./test/browser/global-setup.ts",
  // one shop, two shared cores: one browser at a time
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [["list"], ["html", { outputFolder: "test-results/browser-report", open: "never" }]],
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    },
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    screenshot: "on",
    trace: "retain-on-failure",
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
});
