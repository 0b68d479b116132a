import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { browserForFile, signInWithForm } from "./helpers/browser.ts";

const browser = browserForFile();

for (const dialect of dialects) {
  describe(`the audit trail's download button in a browser on ${dialect}`, () => {
    let t: TestGateway;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
    });
    afterAll(async () => {
      await t.stop();
    });

    test("an admin clicks Download audit trail on the access-log page and gets the workspace's trail as JSON lines", async () => {
      const owner = await seedOwner(t);
      const { page, consoleErrors } = await browser.newContext({ acceptDownloads: true });
      await signInWithForm(page, t.url);
      // A key made in the dashboard, so the trail has an entry whose actor is this browser's session.
      await page.goto(`${t.url}/keys`);
      await page.fill("#key-name", "laptop");
      await page.click("button:has-text('Create key')");
      await page.waitForSelector("text=laptop");

      await page.goto(`${t.url}/access-log`);
      await page.fill("#audit-from", new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("button:has-text('Download audit trail')")]);
      expect(download.suggestedFilename()).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
      const lines = readFileSync((await download.path())!, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as { action: string; actor: string; workspaceId: string; details: { name?: string }; from: { userAgent: string | null } });
      const made = lines.filter((l) => l.action === "api_key.created");
      expect(made.map((l) => l.details.name)).toEqual(["test", "laptop"]);
      expect(made[1]).toMatchObject({ actor: `user:${owner.userId}`, workspaceId: owner.workspaceId });
      expect(made[1]!.from.userAgent).toContain("Chrome");
      expect(consoleErrors).toEqual([]);
    }, 60_000);
  });
}
