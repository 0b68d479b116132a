import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser, type TestBrowser } from "./helpers/browser.ts";
import { OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { connectProvider, CookieJar, IDP_PASSWORD, startTestIdp, type TestIdp } from "./helpers/oidc-provider.ts";

// Every flow that sends the browser from the dashboard to another origin, clicked in Chromium with
// JavaScript on and off. Chromium applies the page's CSP `form-action` to the redirect that answers
// a form POST; a cookie-jar test never sees that, so these flows are only proven here.

const TIMEOUT = 60_000;
/** How long a click may take to reach the other origin before the flow counts as stuck. */
const STEP = 10_000;
const MODES = [
  { label: "with JavaScript", javaScriptEnabled: true },
  { label: "without JavaScript", javaScriptEnabled: false },
] as const;

let browser: TestBrowser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

type Watched = { context: BrowserContext; page: Page; problems: string[] };

/** A loopback-only context that records console errors and CSP violations from every page it opens (popups too). */
async function watchedContext(javaScriptEnabled: boolean): Promise<Watched> {
  const { context, page } = await browser.newContext({ javaScriptEnabled });
  const problems: string[] = [];
  context.on("console", (message) => {
    if (message.type() === "error" || /content security policy/i.test(message.text())) problems.push(message.text());
  });
  context.on("weberror", (error) => problems.push(error.error().message));
  // Without JavaScript no listener can run; Chromium's console message above still reports the violation.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`));
  });
  return { context, page, problems };
}

async function signInWithPassword(page: Page, gatewayUrl: string, email = OWNER.email, password = OWNER.password): Promise<void> {
  await page.goto(`${gatewayUrl}/sign-in`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click('form#sign-in-form button[type="submit"]');
  await page.waitForURL(`${gatewayUrl}/`);
}

/** Waits for the page to reach `where`; when it does not, the failure says what the browser reported. */
async function reach(watched: Watched, where: (url: URL) => boolean, what: string): Promise<void> {
  try {
    await watched.page.waitForURL(where, { timeout: STEP });
  } catch {
    throw new Error(`the browser did not reach ${what}; it is at ${watched.page.url()}; it reported: ${JSON.stringify(watched.problems)}`);
  }
}

/** On the test IdP's login page: sign in as `email`. */
async function signInAtIdp(watched: Watched, idp: TestIdp, email: string): Promise<void> {
  const { page } = watched;
  await reach(watched, (url) => url.origin === idp.issuer && url.pathname.startsWith("/interaction/"), "the provider's login page");
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', IDP_PASSWORD);
  await page.click('button[type="submit"]');
}

const PROVIDER_FIELDS = { name: "Acme SSO", allowedDomain: "example.com" };

for (const mode of MODES) {
  describe(`single sign-on in Chromium ${mode.label}`, () => {
    let t: TestGateway;
    let idp: TestIdp;

    beforeAll(async () => {
      t = await startTestGateway();
      await seedOwner(t);
      idp = await startTestIdp({
        redirectUris: [`${t.url}/sso/callback`],
        users: [{ email: "admin@example.com", groups: ["eng-admins"] }, { email: "grace@example.com", name: "Grace Hopper" }],
      });
      // Saved, not yet tested: single sign-on stays off until the admin's test sign-in works.
      const jar = new CookieJar();
      const [name, value] = (await signIn(t)).split("=") as [string, string];
      jar.set(t.url, name, value);
      const saved = await jar.fetch(`${t.url}/settings/sso`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url },
        body: new URLSearchParams({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, ...PROVIDER_FIELDS }),
      });
      expect(saved.status).toBe(303);
    });
    afterAll(async () => {
      await idp?.stop();
      await t?.stop();
    });

    test(
      "the admin clicks “Test sign-in” in settings, signs in at the provider, and single sign-on is switched on",
      async () => {
        const watched = await watchedContext(mode.javaScriptEnabled);
        const { context, page, problems } = watched;
        try {
          await signInWithPassword(page, t.url);
          await page.goto(`${t.url}/settings`);
          await page.getByRole("button", { name: "Test sign-in" }).click();
          await signInAtIdp(watched, idp, "admin@example.com");
          await reach(watched, (url) => url.href.startsWith(`${t.url}/sso/callback?`), "the gateway's callback");
          expect(await page.locator("h1").textContent()).toBe("Single sign-on is on");
          await page.getByRole("link", { name: "Back to settings" }).click();
          await page.waitForURL(`${t.url}/settings`);
          expect(await page.locator("#sso-settings h2").textContent()).toContain("on since");
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      },
      TIMEOUT,
    );

    test(
      "a member clicks “Sign in with Acme SSO”, signs in at the provider, and lands on the dashboard",
      async () => {
        // Switched on by a test sign-in of its own, so this test does not lean on the one above.
        const { tested } = await connectProvider(t.url, await signIn(t), idp, PROVIDER_FIELDS);
        expect(tested.status).toBe(200);
        const watched = await watchedContext(mode.javaScriptEnabled);
        const { context, page, problems } = watched;
        try {
          await page.goto(`${t.url}/sign-in`);
          await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
          await signInAtIdp(watched, idp, "grace@example.com");
          await reach(watched, (url) => url.href === `${t.url}/`, "the dashboard");
          expect(await page.locator("nav").textContent()).toContain("grace@example.com");
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      },
      TIMEOUT,
    );
  });
}
