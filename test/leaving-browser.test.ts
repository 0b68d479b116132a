import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BrowserContext, Page } from "playwright-core";
import { browserForFile } from "./helpers/browser.ts";
import { OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { connectProvider, CookieJar, IDP_PASSWORD, startTestIdp, type TestIdp } from "./helpers/oidc-provider.ts";
import { startAuthServer, startProtectedUpstream, type AuthServer, type ProtectedUpstream } from "./helpers/oauth-server.ts";
import { beginByUrl, connectWithTokens, TestOAuthProvider } from "./helpers/mcp-oauth-client.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api } from "./helpers/client.ts";
import { newId } from "../src/crypto/tokens.ts";

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

const browser = browserForFile();

type Watched = { context: BrowserContext; page: Page; problems: string[] };

/**
 * A loopback-only context that records console errors and CSP violations from every page it opens
 * (popups too), and any page of the gateway whose CSP lets a form post anywhere but the gateway.
 */
async function watchedContext(javaScriptEnabled: boolean, gatewayUrl: string): Promise<Watched> {
  const { context, page } = await browser.newContext({ javaScriptEnabled });
  const problems: string[] = [];
  context.on("response", (response) => {
    const csp = response.headers()["content-security-policy"];
    if (response.url().startsWith(`${gatewayUrl}/`) && csp !== undefined && !csp.includes("form-action 'self';")) problems.push(`${response.url()} widens form-action: ${csp}`);
  });
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
        const watched = await watchedContext(mode.javaScriptEnabled, t.url);
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
        const watched = await watchedContext(mode.javaScriptEnabled, t.url);
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

for (const mode of MODES) {
  describe(`upstream OAuth in Chromium ${mode.label}`, () => {
    let t: TestGateway;
    let as: AuthServer;
    let upstream: ProtectedUpstream;
    let shared: string;
    let perMember: string;
    const member = { email: "ada@example.com", password: "member password" };

    beforeAll(async () => {
      // The provider shows a consent page, as a real one would.
      as = await startAuthServer({ autoApprove: false });
      upstream = await startProtectedUpstream(as, { tools: ["echo"] });
      t = await startTestGateway();
      const owner = await seedOwner(t);
      const call = api(t.url, owner.key);
      const added = await call("POST", "/api/v1/connections", { name: "linear", url: upstream.url, auth: { kind: "oauth" } });
      expect(added.status).toBe(201);
      shared = (added.json.connection as { id: string }).id;
      const mine = await call("POST", "/api/v1/connections", { name: "notes", url: upstream.url, sharing: "per_member", auth: { kind: "oauth" } });
      expect(mine.status).toBe(201);
      perMember = (mine.json.connection as { id: string }).id;
      const { database } = t.gateway.deps;
      const userId = newId();
      await database.db.insert(database.t.users).values({ id: userId, email: member.email, name: "Ada", passwordHash: await Bun.password.hash(member.password), createdAt: Date.now() });
      await database.db.insert(database.t.memberships).values({ workspaceId: owner.workspaceId, userId, role: "member", createdAt: Date.now() });
    });
    afterAll(async () => {
      await Promise.all([t?.stop(), upstream?.stop(), as?.stop()]);
    });

    /**
     * Clicks `button` in `section` of the connection page and approves at the provider: in a popup
     * with JavaScript (the page reloads when it closes), in the page itself without.
     */
    async function authorizeThrough(watched: Watched, connectionId: string, section: string, button: string): Promise<void> {
      const { page } = watched;
      const connectionUrl = `${t.url}/connections/${connectionId}`;
      await page.goto(connectionUrl);
      const click = (): Promise<void> => page.locator(section).getByRole("button", { name: button }).click();
      if (mode.javaScriptEnabled) {
        const popupOpened = page.waitForEvent("popup");
        await click();
        const popup = await popupOpened;
        await popup.waitForURL((url) => url.origin === as.issuer, { timeout: STEP });
        const reloaded = page.waitForEvent("load");
        await popup.click("#approve");
        await popup.waitForEvent("close");
        await reloaded;
      } else {
        await click();
        await reach(watched, (url) => url.origin === as.issuer && url.pathname === "/authorize", "the provider's consent page");
        await page.click("#approve");
        await reach(watched, (url) => url.href === connectionUrl, "the connection page");
      }
    }

    test(
      "the admin clicks Connect, approves at the provider, then Re-authorize, and the connection is connected each time",
      async () => {
        const watched = await watchedContext(mode.javaScriptEnabled, t.url);
        const { context, page, problems } = watched;
        try {
          await signInWithPassword(page, t.url);
          const before = as.authorizeRequests.length;
          await authorizeThrough(watched, shared, ".first-step", "Connect linear");
          await page.locator(".badge", { hasText: "Connected" }).first().waitFor();
          await authorizeThrough(watched, shared, "#oauth-section", "Re-authorize linear");
          await page.locator(".badge", { hasText: "Connected" }).first().waitFor();
          expect(as.authorizeRequests.length).toBe(before + 2);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      },
      TIMEOUT,
    );

    test(
      "a member clicks “Connect your account” on a per-member connection, approves at the provider, and is connected",
      async () => {
        const watched = await watchedContext(mode.javaScriptEnabled, t.url);
        const { context, page, problems } = watched;
        try {
          await signInWithPassword(page, t.url, member.email, member.password);
          await authorizeThrough(watched, perMember, "#member-account", "Connect your account");
          await page.locator("#member-account .badge", { hasText: "Connected" }).waitFor();
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      },
      TIMEOUT,
    );
  });
}

for (const mode of MODES) {
  describe(`the gateway's own consent page in Chromium ${mode.label}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    // The client's loopback redirect URI; like some real clients, it forwards to a page on another origin.
    let callback: ReturnType<typeof Bun.serve>;
    let done: ReturnType<typeof Bun.serve>;
    const received: URLSearchParams[] = [];

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway(), startUpstream({ tools: ["echo"] })]);
      const owner = await seedOwner(t);
      await api(t.url, owner.key)("POST", "/api/v1/connections", { name: "alpha", url: upstream.url });
      done = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: () => new Response("<!doctype html><title>Done</title><p>You can close this window.</p>", { headers: { "content-type": "text/html" } }),
      });
      callback = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch(request) {
          received.push(new URL(request.url).searchParams);
          return new Response(null, { status: 302, headers: { location: `http://127.0.0.1:${done.port}/done` } });
        },
      });
    });
    afterAll(async () => {
      await callback?.stop(true);
      await done?.stop(true);
      await Promise.all([t?.stop(), upstream?.stop()]);
    });

    /** Opens the client's authorization URL signed in, and answers the consent page with `button`. */
    async function answerConsent(provider: TestOAuthProvider, button: "Allow" | "Deny"): Promise<URLSearchParams> {
      const watched = await watchedContext(mode.javaScriptEnabled, t.url);
      const { context, page, problems } = watched;
      try {
        await signInWithPassword(page, t.url);
        await page.goto(provider.authorizationUrl!.href);
        expect(await page.locator("#consent h1").textContent()).toContain(`Allow ${provider.name} to use the gateway?`);
        const count = received.length;
        await page.getByRole("button", { name: button }).click();
        await reach(watched, (url) => url.origin === `http://127.0.0.1:${done.port}`, "the client's page");
        expect(received.length).toBe(count + 1);
        expect(problems).toEqual([]);
        return received.at(-1)!;
      } finally {
        await context.close();
      }
    }

    test(
      "a member clicks Allow on the consent page; the browser goes back to the client, which then lists tools",
      async () => {
        const provider = new TestOAuthProvider(`http://127.0.0.1:${callback.port}/callback`, "Claude Code");
        const transport = await beginByUrl(t.url, provider);
        const answer = await answerConsent(provider, "Allow");
        expect(answer.get("code")).toStartWith("mgwac_");
        expect(answer.get("state")).toBe(provider.authorizationUrl!.searchParams.get("state"));
        await transport.finishAuth(answer);
        const client = await connectWithTokens(t.url, provider);
        expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("alpha__echo");
        await client.close();
      },
      TIMEOUT,
    );

    test(
      "a member clicks Deny on the consent page; the browser goes back to the client with access_denied",
      async () => {
        const provider = new TestOAuthProvider(`http://127.0.0.1:${callback.port}/callback`, "Cursor");
        await beginByUrl(t.url, provider);
        const answer = await answerConsent(provider, "Deny");
        expect(answer.get("error")).toBe("access_denied");
        expect(answer.get("code")).toBeNull();
        expect(answer.get("state")).toBe(provider.authorizationUrl!.searchParams.get("state"));
      },
      TIMEOUT,
    );
  });
}
