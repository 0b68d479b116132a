import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { browserForFile, signInWithForm } from "./helpers/browser.ts";
import { startAuthServer, startProtectedUpstream, type AuthServer, type ProtectedUpstream } from "./helpers/oauth-server.ts";

const TIMEOUT = 60_000;
const browser = browserForFile();

for (const dialect of dialects) {
  describe(`OAuth in the dashboard on ${dialect}`, () => {
    let t: TestGateway;
    let as: AuthServer;
    let upstream: ProtectedUpstream;
    let dataDir: string;

    beforeAll(async () => {
      // The provider shows a consent page, as a real one would.
      as = await startAuthServer({ autoApprove: false });
      upstream = await startProtectedUpstream(as, { tools: ["echo", "add"] });
      dataDir = mkdtempSync(join(tmpdir(), "mgw-oauth-browser-"));
      // A Linear-like catalog entry pointing at the loopback server.
      const entry = { id: "linear", name: "Linear (loopback)", description: "Issues, on this machine.", url: upstream.url, docs: "https://linear.app/docs/mcp", signIn: [{ kind: "oauth" }] };
      writeFileSync(join(dataDir, "catalog.json"), JSON.stringify({ entries: [entry] }));
      t = await startTestGateway({ dialect, env: { DATA_DIR: dataDir } });
      await seedOwner(t);
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop(), as.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    });

    test(
      "catalog → Linear-like entry → Connect → approve in the popup → the card shows Connected and its tools",
      async () => {
        const { page, context, consoleErrors } = await browser.newContext();
        const shot = (name: string) => browser.screenshot(page, `oauth-${dialect}-${name}`);
        await signInWithForm(page, t.url);

        // Add server → Catalog → the entry: name and URL filled in, OAuth as its sign-in.
        await page.click("a:has-text('Add server')");
        await page.click("a[href='/catalog']");
        await page.waitForURL(`${t.url}/catalog`);
        await shot("01-catalog");
        await page.click("#catalog-linear a:has-text('Use')");
        await page.waitForURL(`${t.url}/catalog/linear`);
        expect(await page.inputValue("#catalog-name")).toBe("linear");
        expect(await page.textContent("#catalog-add")).toContain(upstream.url);
        expect(await page.isChecked("input[name=signIn][value='0']")).toBe(true);
        await shot("02-catalog-entry");
        await page.click("#catalog-add button[type=submit]");
        await page.waitForURL(/\/connections\/[^/]+$/);
        // A new OAuth connection has one next step: Connect.
        await page.getByText("Not connected yet").first().waitFor();
        await shot("03-needs-connect");

        // Connect: the provider opens in a popup; approving there brings the page to Connected.
        const popupOpened = page.waitForEvent("popup");
        await page.click(".first-step button:has-text('Connect')");
        const popup = await popupOpened;
        await popup.waitForURL(`${as.issuer}/authorize?*`);
        await popup.getByText("Authorize the MCP Gateway").waitFor();
        await browser.screenshot(popup, `oauth-${dialect}-04-consent`);
        const reloaded = page.waitForEvent("load");
        await popup.click("#approve");
        await popup.waitForEvent("close");
        await reloaded;
        await page.locator(".badge", { hasText: "Connected" }).first().waitFor();
        expect(await page.textContent("body")).toContain("echo");
        await shot("05-connected");

        // Nothing is exposed before the admin picks (issue 11): the page leads to the pick step.
        await page.click("a:has-text('Choose the tools to expose')");
        await page.waitForURL(/\/connections\/[^/]+\/expose$/);
        await page.click("button:has-text('Save and continue')");
        await page.waitForURL(/\/connections\/[^/]+$/);

        // The connections page: the card is Connected with both tools exposed.
        await page.goto(`${t.url}/`);
        const card = page.locator(".connection-card", { hasText: "linear" });
        await card.locator(".badge", { hasText: "Connected" }).waitFor();
        expect(await card.textContent()).toContain("2 of 2");
        expect(await card.locator("button:has-text('Connect')").count()).toBe(0);
        await shot("06-card-connected");

        expect(as.registrations).toBe(1);
        expect(consoleErrors).toEqual([]);
        await context.close();
      },
      TIMEOUT,
    );

    test(
      "without the popup the whole page goes to the provider and comes back to the connection",
      async () => {
        const { page, context } = await browser.newContext();
        await signInWithForm(page, t.url);
        // Popups blocked: window.open returns null, so the form posts as it would without JavaScript.
        await page.addInitScript(() => {
          window.open = () => null;
        });
        await page.goto(`${t.url}/`);
        await page.click(".connection-card a:has-text('linear')");
        await page.click("#oauth-section button:has-text('Re-authorize')");
        await page.waitForURL(`${as.issuer}/authorize?*`);
        await page.click("#approve");
        await page.waitForURL(/\/connections\/[^/]+$/);
        await page.locator(".badge", { hasText: "Connected" }).first().waitFor();
        await context.close();
      },
      TIMEOUT,
    );
  });
}
