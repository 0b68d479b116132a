import { afterAll, beforeAll } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { OWNER } from "./gateway.ts";

export const SCREENSHOT_DIR = join(import.meta.dir, "../../test-artifacts/screenshots");

export type TestBrowser = {
  browser: Browser;
  /** A fresh context that can only reach loopback; every request it makes is recorded. */
  newContext(options?: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page; requests: string[]; consoleErrors: string[] }>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
};

/** Debian's chromium, driven by playwright-core (no browser download); playwright gives it a fresh profile. */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    browser,
    async newContext(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options });
      await context.route(/^https?:\/\/(?!127\.0\.0\.1|localhost|\[::1\])/, (route) => route.abort());
      const requests: string[] = [];
      const consoleErrors: string[] = [];
      context.on("request", (r) => requests.push(`${r.method()} ${r.url()}`));
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      return { context, page, requests, consoleErrors };
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close();
    },
  };
}

/** One browser for a test file: launched before its tests, closed after them. */
export function browserForFile(): Omit<TestBrowser, "close"> {
  let launched: TestBrowser | undefined;
  beforeAll(async () => {
    launched = await launchBrowser();
  });
  afterAll(async () => {
    await launched?.close();
  });
  const current = (): TestBrowser => {
    if (!launched) throw new Error("the browser is launched in beforeAll");
    return launched;
  };
  return {
    get browser() {
      return current().browser;
    },
    newContext: (options) => current().newContext(options),
    screenshot: (page, name) => current().screenshot(page, name),
  };
}

/** Signs in on the gateway's own sign-in form (the seeded owner unless said) and waits for the dashboard. */
export async function signInWithForm(page: Page, gatewayUrl: string, email = OWNER.email, password = OWNER.password): Promise<void> {
  await page.goto(`${gatewayUrl}/sign-in`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("button:has-text('Sign in')");
  await page.waitForURL(`${gatewayUrl}/`);
}
