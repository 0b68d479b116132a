import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { browserForFile, signInWithForm } from "./helpers/browser.ts";
import { seriousViolationLines as seriousViolations } from "./helpers/axe.ts";
import { api, connectClient } from "./helpers/client.ts";
import { connectionIdByName } from "./helpers/members.ts";

// Issue 17 item 4: an admin renames and describes a tool from its connection's page, in Chromium,
// with JavaScript (htmx swaps the tools section) and without (a plain form post).
const TIMEOUT = 60_000;
const browser = browserForFile();

for (const dialect of dialects) {
  describe(`renaming a tool in a browser on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let key: string;
    let connectionId: string;

    async function listedNames(): Promise<string[]> {
      const client = await connectClient(t.url, key);
      try {
        return (await client.listTools()).tools.map((tool) => tool.name);
      } finally {
        await client.close();
      }
    }

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo", "add"] })]);
      const seeded = await seedOwner(t);
      key = seeded.key;
      expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "fx", url: upstream.url, auth: { kind: "none" } })).status).toBe(201);
      connectionId = await connectionIdByName(t, seeded.workspaceId, "fx");
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop()]);
    });

    test(
      "with JavaScript: a refused alias shows its sentence in the open form, a good one renames the row in place and reaches agents",
      async () => {
        const { page, consoleErrors } = await browser.newContext();
        await signInWithForm(page, t.url);
        await page.goto(`${t.url}/connections/${connectionId}`);
        const row = page.locator("li.tool", { has: page.locator("code.tool-name", { hasText: "fx__echo" }) });
        await row.locator("summary:has-text('Rename or describe')").click();
        await row.getByLabel("Alias").fill("fx__say");
        await row.locator("button:has-text('Save')").click();
        await page.getByText('An alias cannot contain "__"').waitFor();
        expect(await page.locator("details.tool-override[open]").count()).toBe(1);

        const open = page.locator("details.tool-override[open]");
        await open.getByLabel("Alias").fill("say");
        await open.getByLabel("Description agents read").fill("Repeats what you say.");
        await open.locator("button:has-text('Save')").click();
        await page.getByText("Saved: agents now see echo as say").waitFor();
        expect(await page.locator("code.tool-name", { hasText: /^say$/ }).count()).toBe(1);
        await page.getByText("Repeats what you say.").first().waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        // The refusal's 422 is the one resource Chromium reports; nothing else went wrong.
        expect(consoleErrors).toEqual(["Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]);
        expect(await listedNames()).toContain("say");
        // Last: a full-page screenshot injects styles the page's CSP reports.
        await browser.screenshot(page, "tool-alias-saved");
        await page.context().close();
      },
      TIMEOUT,
    );

    test(
      "without JavaScript: the form posts, the page comes back with the new name; clearing gives the old name back",
      async () => {
        const { page } = await browser.newContext({ javaScriptEnabled: false });
        await signInWithForm(page, t.url);
        await page.goto(`${t.url}/connections/${connectionId}`);
        const row = page.locator("li.tool", { has: page.locator("code.tool-name", { hasText: "fx__add" }) });
        await row.locator("summary:has-text('Rename or describe')").click();
        await row.getByLabel("Alias").fill("plus");
        await row.locator("button:has-text('Save')").click();
        await page.waitForURL(/\/connections\/[^/]+(\?[^#]*)?#tools$/);
        expect(await page.locator("code.tool-name", { hasText: /^plus$/ }).count()).toBe(1);
        expect(await listedNames()).toContain("plus");

        const renamed = page.locator("li.tool", { has: page.locator("code.tool-name", { hasText: /^plus$/ }) });
        await renamed.locator("summary:has-text('Rename or describe')").click();
        await renamed.locator("button:has-text('Clear alias and description')").click();
        await page.waitForURL(/#tools$/);
        expect(await page.locator("code.tool-name", { hasText: /^fx__add$/ }).count()).toBe(1);
        expect(await listedNames()).toContain("fx__add");
        await page.context().close();
      },
      TIMEOUT,
    );
  });
}
