import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { launchBrowser, type TestBrowser } from "./helpers/browser.ts";
import { seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api } from "./helpers/client.ts";
import { beginByUrl, connectWithTokens, TestOAuthProvider } from "./helpers/mcp-oauth-client.ts";
import { connectProvider, IDP_PASSWORD, startTestIdp, type TestIdp } from "./helpers/oidc-provider.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";

describe("an MCP client connects by URL alone; the member signs in through SSO in a real browser", () => {
  let t: TestGateway;
  let idp: TestIdp;
  let upstream: Upstream;
  let browser: TestBrowser;
  // The client's loopback redirect URI, as Claude Code opens one.
  let callback: ReturnType<typeof Bun.serve>;
  let received: URLSearchParams | null = null;

  beforeAll(async () => {
    [t, upstream] = await Promise.all([startTestGateway(), startUpstream({ tools: ["echo"] })]);
    const owner = await seedOwner(t);
    await api(t.url, owner.key)("POST", "/api/v1/connections", { name: "alpha", url: upstream.url });
    idp = await startTestIdp({
      redirectUris: [`${t.url}/sso/callback`],
      users: [{ email: "admin@example.com", groups: ["eng-admins"] }, { email: "ada@example.com", name: "Ada Lovelace" }],
    });
    const { tested } = await connectProvider(t.url, await signIn(t), idp, { name: "Acme SSO", allowedDomain: "example.com" });
    expect(tested.status).toBe(200);
    callback = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        received = new URL(request.url).searchParams;
        return new Response("<!doctype html><title>Done</title><p>You can close this window.</p>", { headers: { "content-type": "text/html" } });
      },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await callback?.stop(true);
    await idp?.stop();
    await Promise.all([t?.stop(), upstream?.stop()]);
  });

  test(
    "authorize → sign-in page → the provider's login → consent → back to the client, which then lists tools",
    async () => {
      const provider = new TestOAuthProvider(`http://127.0.0.1:${callback.port}/callback`, "Claude Code");
      const transport = await beginByUrl(t.url, provider);
      const { context, page, consoleErrors } = await browser.newContext();
      try {
        await page.goto(provider.authorizationUrl!.href);
        await page.waitForURL(`${t.url}/sign-in`);
        await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();

        await page.waitForURL((url) => url.origin === idp.issuer && url.pathname.startsWith("/interaction/"));
        await page.fill('input[name="email"]', "ada@example.com");
        await page.fill('input[name="password"]', IDP_PASSWORD);
        await page.click('button[type="submit"]');

        await page.waitForURL((url) => url.href.startsWith(`${t.url}/oauth/authorize?`));
        expect(await page.locator("#consent h1").textContent()).toContain("Allow Claude Code to use the gateway?");
        expect(await page.locator("#consent").textContent()).toContain("ada@example.com");
        await browser.screenshot(page, "mcp-oauth-01-consent");
        await page.getByRole("button", { name: "Allow" }).click();

        await page.waitForURL((url) => url.origin === `http://127.0.0.1:${callback.port}`);
        expect(received?.get("code")).toStartWith("mgwac_");
        expect(received?.get("state")).toBe(provider.authorizationUrl!.searchParams.get("state"));
        expect(consoleErrors).toEqual([]);
      } finally {
        await context.close();
      }

      await transport.finishAuth(received!);
      const client = await connectWithTokens(t.url, provider);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("alpha__echo");
      await client.close();
    },
    30_000,
  );
});
