import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { browserForFile, signInWithForm } from "./helpers/browser.ts";
import { seriousViolationLines as seriousViolations } from "./helpers/axe.ts";
import { connectClient } from "./helpers/client.ts";
import { startAuthServer, startProtectedUpstream, type AuthServer, type ProtectedUpstream } from "./helpers/oauth-server.ts";
import { CHOICES_TOOL, startChoicesUpstream } from "./helpers/choices-upstream.ts";
import { findConnectionByName } from "../src/connections/queries.ts";
import { setConnectionStatus } from "../src/connections/status.ts";
import { OAUTH_OFFERED, TOKEN_REFUSED, WEB_PAGE } from "../src/connections/probe-hints.ts";

// Issue 16, items 1, 2, 4, 5 and 8, clicked in Chromium with JavaScript on and off.
const TIMEOUT = 90_000;
const browser = browserForFile();
const MANY = 60;

async function expectNoSeriousViolations(page: Page, where: string): Promise<void> {
  expect({ where, violations: await seriousViolations(page) }).toEqual({ where, violations: [] });
}

/** Marks the page so a later check can tell it was not reloaded. */
async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __samePage: boolean }).__samePage = true;
  });
}

async function isSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage === true);
}

/** Adds a server through the form and returns its page's path (no flash query). */
async function addServer(page: Page, url: string, name: string, serverUrl: string): Promise<void> {
  await page.goto(`${url}/connections/new`);
  await page.fill("#server-name", name);
  await page.fill("#server-url", serverUrl);
  await page.click("#add-server button[type=submit]:has-text('Add server')");
  await page.waitForURL(/\/expose$/);
}

for (const dialect of dialects) {
  describe(`issue 16 dashboard in a browser on ${dialect}`, () => {
    let t: TestGateway;
    let many: Upstream;
    let plain: Upstream;
    let workspaceId: string;
    let key: string;

    beforeAll(async () => {
      [t, many, plain] = await Promise.all([
        startTestGateway({ dialect }),
        startUpstream({ tools: ["echo", "add"], extraToolCount: MANY }),
        startUpstream({ tools: ["echo"] }),
      ]);
      ({ workspaceId, key } = await seedOwner(t));
    });
    afterAll(async () => {
      await Promise.all([t.stop(), many.stop(), plain.stop()]);
    });

    test(
      "many tools with JavaScript: the pick step finds by name and description as you type, ticks all shown in one click, and saves exactly those; the connection page filters, pages and turns the shown ones off at once",
      async () => {
        const { page, consoleErrors } = await browser.newContext();
        await signInWithForm(page, t.url);
        await addServer(page, t.url, "many", many.url);
        await page.getByText(`${MANY + 2} tools found`).waitFor();
        await expectNoSeriousViolations(page, "pick step");
        await markPage(page);

        await page.click("button:has-text('Untick all')");
        await page.getByText(`0 of ${MANY + 2} ticked.`).waitFor();
        // By description: only echo says "Echoes".
        await page.fill("#pick-q", "echoes");
        await page.getByText("1 match the search.").waitFor();
        expect(await page.locator("label.pick:visible").count()).toBe(1);
        // By name: tool_1 and tool_10 … tool_19.
        await page.fill("#pick-q", "tool_1");
        await page.getByText("11 match the search.").waitFor();
        await page.click("button:has-text('Tick the 11 shown')");
        await page.getByText(`11 of ${MANY + 2} ticked.`).waitFor();
        expect(await isSamePage(page)).toBe(true);
        await page.fill("#pick-q", "");
        await page.click("button:has-text('Save and continue')");
        await page.waitForURL(/\/connections\/[^/?]+\?done=picked$/);
        await page.getByText("Saved: the tools you picked are exposed").waitFor();
        await page.getByText(`11 of ${MANY + 2} exposed`).first().waitFor();
        const connectionUrl = page.url().split("?")[0]!;

        const client = await connectClient(t.url, key);
        try {
          const names = (await client.listTools()).tools.map((tool) => tool.name).filter((name) => name.startsWith("many__"));
          expect(names.sort()).toEqual(["many__tool_1", ...Array.from({ length: 10 }, (_, i) => `many__tool_1${i}`)].sort());
        } finally {
          await client.close();
        }

        // The page stays short: 25 tools a page, settings and Remove one jump away.
        expect(await page.locator("li.tool").count()).toBe(25);
        await page.getByText("Page 1 of 3").waitFor();
        await page.click("nav.jump a:has-text('Remove')");
        expect(await page.locator("#remove-title").isVisible()).toBe(true);
        await expectNoSeriousViolations(page, "connection page");

        await page.goto(connectionUrl);
        await markPage(page);
        await page.fill("#tool-q", "tool_1");
        await page.getByText(`11 of ${MANY + 2} tools match.`).waitFor();
        expect(await page.locator("li.tool").count()).toBe(11);
        await page.click("button:has-text('Turn the 11 shown off')");
        await page.getByText("Turned 11 tools off.").waitFor();
        await page.getByText(`0 of ${MANY + 2} exposed`).first().waitFor();
        await page.click("button:has-text('All on')");
        await page.getByText(`Turned ${MANY + 2} tools on.`).waitFor();
        await page.selectOption("#tool-show", "off");
        await page.getByText(`0 of ${MANY + 2} tools match.`).waitFor();
        expect(await isSamePage(page)).toBe(true);
        expect(consoleErrors).toEqual([]);
        await page.context().close();
      },
      TIMEOUT,
    );

    test(
      "many tools without JavaScript: search, bulk ticks and save on the pick step keep every tick; the connection page's GET search, bulk off and pages work as plain forms and links",
      async () => {
        const { page } = await browser.newContext({ javaScriptEnabled: false });
        await signInWithForm(page, t.url);
        await addServer(page, t.url, "many-nojs", many.url);
        await page.click("button:has-text('Untick all')");
        await page.getByText(`0 of ${MANY + 2} ticked.`).waitFor();
        await page.fill("#pick-q", "tool_2");
        await page.click("button:has-text('Filter')");
        await page.getByText("11 match the search.").waitFor();
        await page.click("button:has-text('Tick the 11 shown')");
        await page.getByText(`11 of ${MANY + 2} ticked.`).waitFor();
        // A second search keeps the ticks the first one made.
        await page.fill("#pick-q", "echoes");
        await page.click("button:has-text('Filter')");
        await page.click("button:has-text('Tick the 1 shown')");
        await page.getByText(`12 of ${MANY + 2} ticked.`).waitFor();
        await page.click("button:has-text('Save and continue')");
        await page.waitForURL(/\?done=picked$/);
        await page.getByText(`12 of ${MANY + 2} exposed`).first().waitFor();
        const connectionUrl = page.url().split("?")[0]!;

        await page.fill("#tool-q", "tool_2");
        await page.click("#tools button:has-text('Filter')");
        await page.waitForURL(/\?q=tool_2(&show=all)?#tools$/);
        expect(await page.locator("li.tool").count()).toBe(11);
        await page.click("button:has-text('Turn the 11 shown off')");
        await page.waitForURL(/\?q=tool_2#tools$/);
        await page.getByText(`1 of ${MANY + 2} exposed`).first().waitFor();

        await page.goto(connectionUrl);
        await page.click("nav.pager a:has-text('Next')");
        await page.waitForURL(/\?page=2#tools$/);
        await page.getByText("Page 2 of 3").waitFor();
        await page.context().close();
      },
      TIMEOUT,
    );

    test(
      "client setup: a new key comes with setup for seven clients, the key filled in; the endpoint card has a placeholder and the URL-only variant; Copy works with JavaScript and is hidden without",
      async () => {
        const { context, page } = await browser.newContext();
        await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.url });
        await signInWithForm(page, t.url);
        const mcpUrl = `${t.url}/api/v1/mcp`;
        for (const client of ["Claude Code", "Claude Desktop", "Cursor", "VS Code", "Windsurf", "Codex CLI", "Gemini CLI"]) {
          await page.locator("#endpoint summary", { hasText: client }).waitFor();
        }
        const endpoint = (await page.locator("#endpoint").textContent()) ?? "";
        expect(endpoint).toContain("<your key>");
        expect(endpoint).not.toContain("mgw_");
        await page.click("#endpoint summary:has-text('Cursor')");
        expect(JSON.parse((await page.locator("#endpoint-cursor-oauth").textContent()) ?? "")).toEqual({ mcpServers: { gateway: { url: mcpUrl } } });
        await expectNoSeriousViolations(page, "connections page with the endpoint card open");

        await page.goto(`${t.url}/keys`);
        await page.fill("#key-name", "laptop");
        await page.click("button:has-text('Create key')");
        const key = ((await page.locator("#new-key-value").textContent()) ?? "").trim();
        expect(key).toMatch(/^mgw_/);
        await page.click("#create-key summary:has-text('Cursor')");
        expect(JSON.parse((await page.locator("#new-key-cursor-key").textContent()) ?? "")).toEqual({ mcpServers: { gateway: { url: mcpUrl, headers: { Authorization: `Bearer ${key}` } } } });
        await page.click("#create-key summary:has-text('Windsurf')");
        expect(JSON.parse((await page.locator("#new-key-windsurf-key").textContent()) ?? "")).toEqual({ mcpServers: { gateway: { serverUrl: mcpUrl, headers: { Authorization: `Bearer ${key}` } } } });
        await page.click("#create-key summary:has-text('Gemini CLI')");
        expect(JSON.parse((await page.locator("#new-key-gemini-key").textContent()) ?? "")).toEqual({ mcpServers: { gateway: { httpUrl: mcpUrl, headers: { Authorization: `Bearer ${key}` } } } });
        await page.click("#create-key summary:has-text('Codex CLI')");
        const codex = (await page.locator("#new-key-codex-key").textContent()) ?? "";
        expect(codex).toContain(`export MCP_GATEWAY_KEY='${key}'`);
        expect(codex).toContain(`[mcp_servers.gateway]\nurl = "${mcpUrl}"\nbearer_token_env_var = "MCP_GATEWAY_KEY"`);
        await page.click("#create-key summary:has-text('Claude Code')");
        await page.click("button[data-copy='new-key-claude-code-key']");
        await page.getByRole("button", { name: "Copied" }).waitFor();
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`claude mcp add --transport http gateway ${mcpUrl} --header "Authorization: Bearer ${key}"`);
        await expectNoSeriousViolations(page, "new key");
        await page.context().close();

        // Without JavaScript: no Copy button shows (it could do nothing); the setups still open.
        const nojs = await browser.newContext({ javaScriptEnabled: false });
        await signInWithForm(nojs.page, t.url);
        expect(await nojs.page.locator("[data-copy]").count()).toBeGreaterThan(0);
        for (const button of await nojs.page.locator("[data-copy]").all()) expect(await button.isVisible()).toBe(false);
        await nojs.page.click("#endpoint summary:has-text('VS Code')");
        expect(await nojs.page.locator("#endpoint-vscode-key").isVisible()).toBe(true);
        await nojs.page.context().close();
      },
      TIMEOUT,
    );

    test(
      "live status: the connections page and a connection's page show a connection pausing without a reload, failing ones first with Retry on the card, times relative with the exact one on hover; a call refused while paused is logged as paused",
      async () => {
        const { page, consoleErrors } = await browser.newContext();
        await signInWithForm(page, t.url);
        await addServer(page, t.url, "zz-live", plain.url);
        await page.click("button:has-text('Save and continue')");
        await page.waitForURL(/\?done=picked$/);
        const connection = (await findConnectionByName(t.gateway.deps, workspaceId, "zz-live"))!;

        await page.goto(`${t.url}/`);
        await markPage(page);
        const card = page.locator(".connection-card", { hasText: "zz-live" });
        const lastSync = card.locator("time");
        expect(await lastSync.textContent()).toMatch(/just now|min ago/);
        expect(await lastSync.getAttribute("title")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
        await setConnectionStatus(t.gateway.deps, connection, "paused", "the server answered HTTP 503", { pausedUntil: Date.now() + 600_000, consecutiveFailures: 5 });
        await card.locator(".badge", { hasText: "Paused" }).waitFor({ timeout: 15_000 });
        expect(await isSamePage(page)).toBe(true);
        expect(await page.locator(".connection-card").first().textContent()).toContain("zz-live");

        // A call while paused is refused by the gateway and says so in the log.
        const client = await connectClient(t.url, key);
        try {
          const result = await client.callTool({ name: "zz-live__echo", arguments: { message: "hi" } });
          expect(result.isError).toBe(true);
        } finally {
          await client.close();
        }
        await t.gateway.deps.accessLog.flush();
        const log = await t.gateway.deps.database.db.select().from(t.gateway.deps.database.t.accessLog);
        expect(log.filter((row) => row.connectionName === "zz-live").map((row) => row.outcome)).toEqual(["paused"]);

        await card.getByRole("button", { name: /Retry now/ }).click();
        await card.locator(".badge", { hasText: "Connected" }).waitFor();
        expect(await isSamePage(page)).toBe(true);

        await page.goto(`${t.url}/connections/${connection.id}`);
        await markPage(page);
        await setConnectionStatus(t.gateway.deps, connection, "paused", "the server answered HTTP 503", { pausedUntil: Date.now() + 600_000, consecutiveFailures: 5 });
        await page.locator("#live-status .badge", { hasText: "Paused" }).waitFor({ timeout: 15_000 });
        await page.locator("#history", { hasText: "Connected → Paused" }).waitFor({ timeout: 15_000 });
        expect(await isSamePage(page)).toBe(true);
        await setConnectionStatus(t.gateway.deps, connection, "connected", null);
        expect(consoleErrors).toEqual([]);
        await page.context().close();
      },
      TIMEOUT,
    );

    test(
      "first steps: a 401 with OAuth metadata offers OAuth, then Not connected yet with Connect; a refused token and a web page are named; Save settings and Remove say what they did; Revoke asks first without JavaScript",
      async () => {
        const as: AuthServer = await startAuthServer();
        const oauthUpstream: ProtectedUpstream = await startProtectedUpstream(as);
        const guarded = await startUpstream({ auth: { kind: "bearer", token: "right-token" }, tools: ["echo"] });
        const web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<!doctype html><title>Docs</title><h1>Welcome</h1>", { headers: { "content-type": "text/html" } }) });
        try {
          const { page } = await browser.newContext({ javaScriptEnabled: false });
          await signInWithForm(page, t.url);
          await page.goto(`${t.url}/connections/new`);
          await page.fill("#server-name", "signs-in");
          await page.fill("#server-url", oauthUpstream.url);
          await page.click("#add-server button[type=submit]");
          await page.getByText(OAUTH_OFFERED).waitFor();
          expect(await page.isChecked("input[name=auth][value=oauth]")).toBe(true);
          await page.click("#add-server button[type=submit]");
          await page.waitForURL(/\/connections\/[^/]+$/);
          await page.getByRole("heading", { name: "Not connected yet" }).waitFor();
          expect(await page.locator("#connection button", { hasText: "Connect" }).count()).toBe(1);
          expect(await page.locator("#sync-button").count()).toBe(0);

          await page.goto(`${t.url}/connections/new`);
          await page.fill("#server-name", "guarded");
          await page.fill("#server-url", guarded.url);
          await page.check("input[name=auth][value=bearer]");
          await page.fill("#auth-token", "wrong-token");
          await page.click("#add-server button[type=submit]");
          await page.getByText(TOKEN_REFUSED).waitFor();
          expect(await page.content()).not.toContain("wrong-token");
          await page.fill("#auth-token", "right-token");
          await page.click("#add-server button[type=submit]");
          await page.waitForURL(/\/expose$/);
          await page.click("button:has-text('Save and continue')");
          await page.waitForURL(/\?done=picked$/);
          const path = new URL(page.url()).pathname;

          await page.goto(`${t.url}/connections/new`);
          await page.fill("#server-name", "website");
          await page.fill("#server-url", `http://127.0.0.1:${web.port}/`);
          await page.check("input[name=auth][value=none]");
          await page.click("#add-server button[type=submit]");
          await page.getByText(WEB_PAGE).waitFor();

          // Flash after Save settings and Remove.
          await page.goto(`${t.url}${path}`);
          await page.fill("#edit-timeout", "30000");
          await page.click("button:has-text('Save settings')");
          await page.getByText("Settings saved.").waitFor();
          await page.goto(`${t.url}${path}/remove`);
          await page.click("form button:has-text('Remove')");
          await page.waitForURL(`${t.url}/?done=removed`);
          await page.getByText("Connection removed").waitFor();

          // Revoke key: a page that asks, then the flash.
          await page.goto(`${t.url}/keys`);
          await page.fill("#key-name", "to-revoke");
          await page.click("button:has-text('Create key')");
          await page.goto(`${t.url}/keys`);
          await page.locator("#key-list tr", { hasText: "to-revoke" }).getByRole("button", { name: /Revoke/ }).click();
          await page.getByRole("heading", { name: /Revoke the key/ }).waitFor();
          await page.click("form button:has-text('Revoke')");
          await page.getByText("Key revoked").waitFor();
          expect(await page.locator("#key-list tr", { hasText: "to-revoke" }).textContent()).toContain("revoked");
          await page.context().close();
        } finally {
          await web.stop(true);
          await Promise.all([oauthUpstream.stop(), as.stop(), guarded.stop()]);
        }
      },
      TIMEOUT,
    );

    test(
      "every screen: no page scrolls sideways at 390 px, dark mode follows the system, the skip link comes first, the focus ring stands out 3:1, no request 404s (favicon), catalog shows only the chosen sign-in, a list of choices is checkboxes; axe finds nothing serious, light and dark; screenshots of each",
      async () => {
        const choices = await startChoicesUpstream();
        try {
          const { page } = await browser.newContext();
          const missing: string[] = [];
          page.on("response", (r) => {
            if (r.status() === 404) missing.push(r.url());
          });
          await signInWithForm(page, t.url);
          await addServer(page, t.url, "choices", choices.url);
          await page.click("button:has-text('Save and continue')");
          await page.waitForURL(/\?done=picked$/);
          const connectionPath = new URL(page.url()).pathname;

          // A list of choices: one checkbox each, and the call gets the ticked values.
          await page.goto(`${t.url}${connectionPath}/test?tool=${CHOICES_TOOL}`);
          expect(await page.locator(".choice-list input[type=checkbox]").count()).toBe(3);
          expect(await page.locator("textarea").count()).toBe(0);
          await page.check(".choice-list label:has-text('red') input");
          await page.check(".choice-list label:has-text('blue') input");
          await page.click("#run-tool");
          await page.locator(".result pre.result-text", { hasText: 'painted ["red","blue"]' }).waitFor();

          // Catalog: the inputs of the chosen sign-in only.
          await page.goto(`${t.url}/catalog/cloudflare`);
          expect(await page.isVisible("#signin-1-key")).toBe(false);
          await page.check("input[name=signIn][value='1']");
          expect(await page.isVisible("#signin-1-key")).toBe(true);

          // Keyboard: the skip link first, and a ring of at least 3:1 against the page and a card.
          await page.goto(`${t.url}/keys`);
          await page.keyboard.press("Tab");
          expect(await page.evaluate(() => document.activeElement?.className)).toBe("skip-link");
          for (const scheme of ["light", "dark"] as const) {
            await page.emulateMedia({ colorScheme: scheme });
            await page.focus("#key-name");
            await page.keyboard.press("Shift+Tab");
            await page.keyboard.press("Tab");
            const ratio = await page.evaluate(focusRingContrast);
            expect({ scheme, ok: ratio >= 3 }).toEqual({ scheme, ok: true });
          }

          // A long key name on a phone: the table scrolls inside its card.
          await page.emulateMedia({ colorScheme: "light" });
          await page.fill("#key-name", "a-rather-long-key-name-for-the-build-server-in-the-basement");
          await page.click("button:has-text('Create key')");
          await page.locator("#new-key-value").waitFor();

          const screens: [string, string][] = [
            ["connections", "/"],
            ["add-server", "/connections/new"],
            ["catalog", "/catalog"],
            ["catalog-add", "/catalog/cloudflare"],
            ["connection", connectionPath],
            ["pick-tools", `${connectionPath}/expose`],
            ["tool-test", `${connectionPath}/test?tool=${CHOICES_TOOL}`],
            ["remove", `${connectionPath}/remove`],
            ["keys", "/keys"],
            ["access-log", "/access-log"],
            ["settings", "/settings"],
            ["account", "/account"],
          ];
          const backgrounds: Record<string, string> = {};
          for (const scheme of ["light", "dark"] as const) {
            await page.emulateMedia({ colorScheme: scheme });
            for (const [name, path] of screens) {
              await page.setViewportSize({ width: 1280, height: 900 });
              await page.goto(`${t.url}${path}`);
              await expectNoSeriousViolations(page, `${name} (${scheme})`);
              await browser.screenshot(page, `${dialect}-issue16-${name}-desktop-${scheme}`);
              await page.setViewportSize({ width: 390, height: 844 });
              await page.goto(`${t.url}${path}`);
              expect({ name, fits: await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth) }).toEqual({ name, fits: true });
              await browser.screenshot(page, `${dialect}-issue16-${name}-phone-${scheme}`);
            }
            backgrounds[scheme] = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
          }
          expect(backgrounds.dark).not.toBe(backgrounds.light);
          expect(missing).toEqual([]);
          await page.context().close();
        } finally {
          await choices.stop();
        }
      },
      TIMEOUT * 2,
    );
  });
}

/** In the page: the contrast of the focused element's outline against the page and against its card (WCAG ratio, the lower one). */
function focusRingContrast(): number {
  const rgb = (color: string): number[] => (color.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
  const luminance = ([r, g, b]: number[]): number => {
    const channel = (v: number): number => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r ?? 0) + 0.7152 * channel(g ?? 0) + 0.0722 * channel(b ?? 0);
  };
  const ratio = (a: string, b: string): number => {
    const [x, y] = [luminance(rgb(a)), luminance(rgb(b))].sort((p, q) => q - p);
    return ((x ?? 0) + 0.05) / ((y ?? 0) + 0.05);
  };
  const focused = document.activeElement as HTMLElement;
  const ring = getComputedStyle(focused).outlineColor;
  // The page colour is set on the root element (app.css :root).
  const page = getComputedStyle(document.documentElement).backgroundColor;
  const card = getComputedStyle(focused.closest(".card") ?? document.documentElement).backgroundColor;
  return Math.min(ratio(ring, page), ratio(ring, card));
}
