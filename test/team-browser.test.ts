import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { browserForFile, signInWithForm } from "./helpers/browser.ts";
import { api, connectClient } from "./helpers/client.ts";
import { addMember, insertMember } from "./helpers/members.ts";
import { seriousViolations, seriousViolationsWithoutJs } from "./helpers/axe.ts";

const TIMEOUT = 90_000;
const browser = browserForFile();
const PASSWORD = "a long enough password";

/** axe finds nothing serious or critical; pages opened without JavaScript are checked as a copy. */
async function expectAccessible(page: Page, options: { javaScript: "on" | "off" } = { javaScript: "on" }): Promise<void> {
  const found = options.javaScript === "on" ? await seriousViolations(page) : await seriousViolationsWithoutJs(page, () => browser.newContext());
  expect(found).toEqual([]);
}

for (const dialect of dialects) {
  describe(`members, usage and the access log in a browser on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let owner: Awaited<ReturnType<typeof seedOwner>>;

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo", "fail"] })]);
      owner = await seedOwner(t);
      const added = await api(t.url, owner.key)("POST", "/api/v1/connections", { name: "fixture", url: upstream.url });
      expect(added.status).toBe(201);
      // Real calls through the real endpoint: what usage and the log show.
      const client = await connectClient(t.url, owner.key);
      for (let i = 0; i < 5; i++) await client.callTool({ name: "fixture__echo", arguments: { message: `hello ${i}` } });
      await client.callTool({ name: "fixture__fail", arguments: {} });
      await client.close();
      await t.gateway.deps.accessLog.flush();
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop()]);
    });

    test(
      "with JavaScript: invite by link, the invitee joins, the owner changes their role and deactivates them after a dialog; every page passes axe",
      async () => {
        const { page, consoleErrors } = await browser.newContext();
        const shot = (name: string) => browser.screenshot(page, `${dialect}-team-${name}`);
        await signInWithForm(page, t.url);
        await page.click("nav >> text=Members");
        await page.waitForURL(`${t.url}/members`);
        await expectAccessible(page);
        await page.fill("#invite-email", "ada@example.com");
        await page.selectOption("#invite-role", "member");
        await page.click("button:has-text('Create invitation link')");
        const link = (await page.locator("#invite-link").textContent())!.trim();
        expect(link).toContain("/invite?token=");
        await page.locator("#pending-invites", { hasText: "ada@example.com" }).waitFor();
        await shot("01-members-invited");
        await expectAccessible(page);

        // The invitee, in a browser of their own.
        const invitee = await browser.newContext();
        await invitee.page.goto(link);
        await invitee.page.getByText("You were invited as").waitFor();
        await expectAccessible(invitee.page);
        await invitee.page.fill("#invite-password", PASSWORD);
        await invitee.page.click("button:has-text('Join')");
        await invitee.page.waitForURL(`${t.url}/`);
        await invitee.context.close();

        await page.goto(`${t.url}/members`);
        const row = page.locator("#member-table tr", { hasText: "ada@example.com" });
        page.once("dialog", (dialog) => void dialog.accept());
        await row.locator("button:has-text('Make admin')").click();
        await page.getByText("The role was changed").waitFor();
        expect(await row.locator("td").nth(1).textContent()).toBe("admin");
        page.once("dialog", (dialog) => void dialog.dismiss());
        await row.locator("button:has-text('Deactivate')").click();
        expect(await row.locator("td").nth(3).textContent()).toBe("active");
        page.once("dialog", (dialog) => void dialog.accept());
        await row.locator("button:has-text('Deactivate')").click();
        await page.getByText("Their sessions, API keys and OAuth grants have ended").waitFor();
        expect(await page.locator("#member-table tr", { hasText: "ada@example.com" }).locator("td").nth(3).textContent()).toBe("deactivated");
        await shot("02-members-deactivated");
        await expectAccessible(page);
        expect(consoleErrors).toEqual([]);
      },
      TIMEOUT,
    );

    test(
      "without JavaScript: removing a member and changing a role ask on a page first; a member changes their password",
      async () => {
        const grace = await addMember(t, owner.workspaceId, "grace@example.com", { password: PASSWORD });
        await insertMember(t, owner.workspaceId, "linus@example.com", { password: PASSWORD });
        const { page } = await browser.newContext({ javaScriptEnabled: false });
        await signInWithForm(page, t.url);
        await page.goto(`${t.url}/members`);
        const row = page.locator(`#member-${grace.userId}`);
        await row.locator("button:has-text('Make admin')").click();
        await page.getByText("Make grace@example.com an admin?").waitFor();
        await expectAccessible(page, { javaScript: "off" });
        await browser.screenshot(page, `${dialect}-team-03-confirm-no-js`);
        await page.click("button:has-text('Make admin')");
        await page.waitForURL(`${t.url}/members?done=role`);
        await page.getByText("The role was changed").waitFor();
        await page.locator(`#member-${grace.userId}`).locator("button:has-text('Remove')").click();
        await page.getByText("Remove grace@example.com from the workspace?").waitFor();
        await page.click("main button:has-text('Remove')");
        await page.waitForURL(`${t.url}/members?done=removed`);
        expect(await page.locator(`#member-${grace.userId}`).count()).toBe(0);

        const member = await browser.newContext({ javaScriptEnabled: false });
        await signInWithForm(member.page, t.url, "linus@example.com", PASSWORD);
        await member.page.goto(`${t.url}/account`);
        await member.page.fill("#current-password", "wrong password!");
        await member.page.fill("#new-password", "the new password 1");
        await member.page.fill("#confirm-password", "the new password 1");
        await member.page.click("button:has-text('Change password')");
        await member.page.locator("#current-error").waitFor();
        await member.page.fill("#current-password", PASSWORD);
        await member.page.fill("#new-password", "the new password 1");
        await member.page.fill("#confirm-password", "the new password 1");
        await member.page.click("button:has-text('Change password')");
        await member.page.waitForURL(`${t.url}/account?done=password`);
        await member.page.getByText("Your password was changed").waitFor();
        await expectAccessible(member.page, { javaScript: "off" });
        await member.context.close();
      },
      TIMEOUT,
    );

    test(
      "usage: the connection card and page show calls, error rate, p50/p95 and a server-drawn chart; the access log has the strip above it",
      async () => {
        const { page, consoleErrors } = await browser.newContext();
        await signInWithForm(page, t.url);
        const card = page.locator(".connection-card", { hasText: "fixture" });
        await card.locator("svg.usage-chart").waitFor();
        expect(await card.textContent()).toContain("6 calls in 24 h · 17% errors");
        await card.locator("a", { hasText: "fixture" }).click();
        await page.waitForURL(/\/connections\/[^/]+$/);
        const usage = page.locator("#connection-usage");
        await usage.locator("svg.usage-chart[role=img]").waitFor();
        expect(await usage.locator('[data-window="hour"] .usage-calls').textContent()).toBe("6");
        expect(await usage.locator(".tool-usage tr", { hasText: "echo" }).locator("td").nth(1).textContent()).toBe("5");
        await usage.locator("a", { hasText: "last 7 days" }).click();
        await page.waitForURL(/usage=week/);
        await browser.screenshot(page, `${dialect}-team-04-connection-usage`);
        await expectAccessible(page);
        await page.goto(`${t.url}/access-log`);
        await page.locator("#usage-summary svg.usage-chart").waitFor();
        await expectAccessible(page);
        expect(consoleErrors).toEqual([]);
      },
      TIMEOUT,
    );

    test(
      "on a phone, light and dark: members, the access log with its usage strip, and a call's detail fit the width (tables scroll inside their card)",
      async () => {
        for (const colorScheme of ["light", "dark"] as const) {
          const { page, context } = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme });
          await signInWithForm(page, t.url);
          for (const [name, path] of [["members", "/members"], ["access-log", "/access-log"]] as const) {
            await page.goto(`${t.url}${path}`);
            expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
            await browser.screenshot(page, `${dialect}-team-phone-${colorScheme}-${name}`);
          }
          await page.locator("table.log a.log-detail").first().click();
          await page.waitForURL(/\/access-log\/[^/?]+/);
          expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
          await browser.screenshot(page, `${dialect}-team-phone-${colorScheme}-call-detail`);
          await context.close();
        }
      },
      TIMEOUT,
    );

    for (const javaScriptEnabled of [true, false]) {
      test(
        `access log ${javaScriptEnabled ? "with" : "without"} JavaScript: search by tool and connection substring and a date range, open a row, export CSV and JSON lines`,
        async () => {
          const { page } = await browser.newContext({ javaScriptEnabled, acceptDownloads: true });
          await signInWithForm(page, t.url);
          await page.goto(`${t.url}/access-log`);
          await page.fill("#filter-connection", "FIXT");
          await page.fill("#filter-tool", "fai");
          const today = new Date().toISOString().slice(0, 10);
          await page.fill("#filter-from", today);
          await page.fill("#filter-to", today);
          await page.click("button:has-text('Filter')");
          await page.waitForURL(/tool=fai/);
          const rows = page.locator("table.log tbody tr");
          expect(await rows.count()).toBe(1);
          expect(await rows.first().textContent()).toContain("fail");
          await expectAccessible(page, { javaScript: javaScriptEnabled ? "on" : "off" });
          if (!javaScriptEnabled) await browser.screenshot(page, `${dialect}-team-05-access-log-filtered`);

          const download = page.waitForEvent("download");
          await page.click(".export-links a:has-text('CSV')");
          const csv = readFileSync((await (await download).path())!, "utf8");
          expect(csv.trimEnd().split("\r\n")).toHaveLength(2);
          expect(csv).toContain("fixture__fail".replace("fixture__", ""));
          const jsonDownload = page.waitForEvent("download");
          await page.click(".export-links a:has-text('JSON lines')");
          const jsonl = readFileSync((await (await jsonDownload).path())!, "utf8").trimEnd().split("\n");
          expect(jsonl.map((l) => (JSON.parse(l) as { connectionName: string }).connectionName)).toEqual(["fixture"]);

          await rows.first().locator("a.log-detail").click();
          await page.waitForURL(/\/access-log\/[^/?]+/);
          await page.getByRole("heading", { name: "Call details" }).waitFor();
          expect(await page.locator("dl.detail").textContent()).toContain("owner@example.com");
          await expectAccessible(page, { javaScript: javaScriptEnabled ? "on" : "off" });
          await page.click("text=← Access log");
          await page.waitForURL(/tool=fai/);
        },
        TIMEOUT,
      );
    }
  });
}
