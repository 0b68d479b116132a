import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { launchBrowser, type TestBrowser } from "./helpers/browser.ts";
import { OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { connectProvider, IDP_PASSWORD, startTestIdp, type TestIdp } from "./helpers/oidc-provider.ts";

describe("SSO sign-in in a real browser", () => {
  let t: TestGateway;
  let idp: TestIdp;
  let browser: TestBrowser;

  beforeAll(async () => {
    t = await startTestGateway();
    await seedOwner(t);
    idp = await startTestIdp({
      redirectUris: [`${t.url}/sso/callback`],
      users: [{ email: "admin@example.com", groups: ["eng-admins"] }, { email: "grace@example.com", groups: ["eng-admins"], name: "Grace Hopper" }],
    });
    const { tested } = await connectProvider(t.url, await signIn(t), idp, { name: "Acme SSO", allowedDomain: "example.com", roleMapping: "eng-admins=admin" });
    expect(tested.status).toBe(200);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await idp?.stop();
    await t?.stop();
  });

  test(
    "a member clicks “Sign in with Acme SSO”, signs in on the provider's page, and lands on the dashboard",
    async () => {
      const { context, page, consoleErrors } = await browser.newContext();
      try {
        await page.goto(`${t.url}/sign-in`);
        await browser.screenshot(page, "sso-01-sign-in");
        await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();

        await page.waitForURL((url) => url.origin === idp.issuer && url.pathname.startsWith("/interaction/"));
        expect(await page.locator("h1").textContent()).toBe("Test IdP");
        await page.fill('input[name="email"]', "grace@example.com");
        await page.fill('input[name="password"]', IDP_PASSWORD);
        await browser.screenshot(page, "sso-02-provider-login");
        await page.click('button[type="submit"]');

        await page.waitForURL(`${t.url}/`);
        expect(await page.locator("nav").textContent()).toContain("grace@example.com");
        // Mapped to admin by her group, so she sees Settings.
        await expect(page.getByRole("link", { name: "Settings" }).count()).resolves.toBe(1);
        await browser.screenshot(page, "sso-03-dashboard");
        expect(consoleErrors).toEqual([]);
      } finally {
        await context.close();
      }
    },
    30_000,
  );

  test(
    "the owner sees the provider switched on and the members with their source in settings",
    async () => {
      const { context, page, consoleErrors } = await browser.newContext();
      try {
        await page.goto(`${t.url}/sign-in`);
        await page.fill('input[name="email"]', OWNER.email);
        await page.fill('input[name="password"]', OWNER.password);
        await page.click('form#sign-in-form button[type="submit"]');
        await page.waitForURL(`${t.url}/`);
        await page.getByRole("link", { name: "Settings" }).click();
        await page.waitForURL(`${t.url}/settings`);
        expect(await page.locator("#sso-settings h2").textContent()).toContain("on since");
        const grace = page.locator("#members tr", { hasText: "grace@example.com" });
        expect(await grace.locator("td").nth(1).textContent()).toBe("SSO");
        expect(await page.content()).not.toContain(idp.clientSecret);

        // htmx: demote Grace in place, without a page load.
        await grace.locator("select").selectOption("member");
        const swapped = page.waitForResponse((r) => r.url().endsWith("/role") && r.status() === 200);
        await grace.getByRole("button", { name: "Change" }).click();
        await swapped;
        await page.locator('#members option[value="member"][selected]').first().waitFor({ state: "attached" });
        expect(await page.locator("#members tr", { hasText: "grace@example.com" }).innerHTML()).toContain('value="member" selected');
        expect(page.url()).toBe(`${t.url}/settings`);
        await browser.screenshot(page, "sso-04-settings");
        expect(consoleErrors).toEqual([]);
      } finally {
        await context.close();
      }
    },
    30_000,
  );
});
