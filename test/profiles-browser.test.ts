import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { browserForFile, signInWithForm } from "./helpers/browser.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient } from "./helpers/client.ts";
import { getProfile, saveProfile } from "../src/profiles/store.ts";

const browser = browserForFile();

for (const dialect of dialects) {
  describe(`profiles in a browser on ${dialect}`, () => {
    let t: TestGateway;
    let alpha: Upstream;
    let beta: Upstream;
    let workspaceId: string;

    beforeAll(async () => {
      [t, alpha, beta] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo", "add"] }), startUpstream({ tools: ["echo", "add"] })]);
      const { key, workspaceId: seeded } = await seedOwner(t);
      workspaceId = seeded;
      const call = api(t.url, key);
      expect((await call("POST", "/api/v1/connections", { name: "alpha", url: alpha.url })).status).toBe(201);
      expect((await call("POST", "/api/v1/connections", { name: "beta", url: beta.url })).status).toBe(201);
    }, 30_000);
    afterAll(async () => {
      await Promise.all([t.stop(), alpha.stop(), beta.stop()]);
    });

    test("an admin creates a profile by filtering and ticking tools, limits a new key to it, and the key sees only those tools", async () => {
      const { page, consoleErrors } = await browser.newContext();
      await signInWithForm(page, t.url);

      await page.click("nav a:has-text('Profiles')");
      await page.waitForURL(`${t.url}/profiles`);
      await page.click("a:has-text('New profile')");
      await page.fill("#profile-name", "Bad Name");
      await page.click("button:has-text('Save profile')");
      // A bad name is said in a sentence, and the form keeps what was typed.
      await page.waitForSelector("#name-error");
      expect(await page.textContent("#name-error")).toContain("lowercase letters");
      await page.fill("#profile-name", "support");
      await page.fill("#profile-description", "What the support agent may use");
      // The filter box narrows the list to one connection's echo.
      await page.fill("#profile-filter", "beta echo");
      expect(await page.locator("label.profile-item:visible").count()).toBe(1);
      await page.check("label.profile-item:visible input[type=checkbox]");
      await page.fill("#profile-filter", "");
      expect(await page.locator("label.profile-item:visible").count()).toBe(4);
      await page.click("button:has-text('Save profile')");
      await page.waitForURL(/\/profiles\?done=profile-saved/);
      expect(await page.textContent("#profile-list")).toContain("support");
      expect(await page.textContent("#profile-list")).toContain("/api/v1/mcp/p/support");

      await page.goto(`${t.url}/keys`);
      await page.fill("#key-name", "support bot");
      await page.selectOption("#key-profile", { label: "Profile support" });
      await page.click("button:has-text('Create key')");
      const secret = (await page.locator("#new-key-value").textContent())!.trim();
      expect(await page.textContent("#key-list")).toContain("Profile support");

      const client = await connectClient(t.url, secret, "2026-07-28");
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(["beta__echo", "gateway__call_tool", "gateway__list_connections", "gateway__search_tools"]);
        await expect(client.callTool({ name: "alpha__echo", arguments: { message: "x" } })).rejects.toThrow('is not in the profile "support"');
      } finally {
        await client.close();
      }

      // Deleting it while the key uses it is refused, naming the key.
      await page.goto(`${t.url}/profiles`);
      page.on("dialog", (dialog) => void dialog.accept());
      await page.click("#profile-list button:has-text('Delete')");
      await page.waitForSelector("#profile-list [role=alert]");
      expect(await page.textContent("#profile-list [role=alert]")).toContain('key "support bot"');
      await browser.screenshot(page, "profiles-delete-refused");
      // The 422 of the bad name and the 409 of the refused delete are the answers the test asked for.
      expect(consoleErrors.filter((e) => !/status of (409|422)/.test(e))).toEqual([]);
    }, 60_000);

    test("without JavaScript, Delete asks on a page of its own first: Cancel keeps the profile, confirming deletes it", async () => {
      const saved = await saveProfile(t.gateway.deps.database, workspaceId, { name: "spare", description: "", mode: "full", items: [] }, null);
      if (!saved.ok) throw new Error(JSON.stringify(saved.errors));
      const { page } = await browser.newContext({ javaScriptEnabled: false });
      await signInWithForm(page, t.url);

      await page.goto(`${t.url}/profiles`);
      await page.click(`#profile-${saved.id} button:has-text('Delete')`);
      await page.waitForURL((url) => url.pathname === `/profiles/${saved.id}/delete`);
      expect(await page.textContent("main")).toContain('Delete the profile "spare"?');
      await browser.screenshot(page, `${dialect}-profiles-delete-asks`);
      await page.click("a:has-text('Cancel')");
      await page.waitForURL(`${t.url}/profiles`);
      expect(await page.locator(`#profile-${saved.id}`).count()).toBe(1);

      await page.click(`#profile-${saved.id} button:has-text('Delete')`);
      await page.click("button:has-text('Delete profile')");
      await page.waitForURL(/\/profiles\?done=profile-deleted/);
      expect(await page.textContent("main")).toContain("Profile deleted.");
      expect(await page.locator(`#profile-${saved.id}`).count()).toBe(0);
      expect(await getProfile(t.gateway.deps.database, workspaceId, saved.id)).toBeNull();
    }, 30_000);
  });
}
