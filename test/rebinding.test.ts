import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isSetupDone } from "../src/accounts/accounts.ts";
import { loadConfig } from "../src/config.ts";
import { OWNER, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";

// DNS rebinding: a page on evil.example makes its name resolve to the gateway's address, so the
// browser sends `Host: evil.example` and `Origin: http://evil.example` — same-origin to the browser.

const SETUP_FORM = { email: "intruder@example.com", password: "intruder password 1", workspace: "Taken" };

function form(values: Record<string, string>): URLSearchParams {
  return new URLSearchParams(values);
}

function initialize(): string {
  return JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
}

describe("DNS rebinding", () => {
  let fresh: TestGateway;
  let port: string;
  const rebound = (): string => `evil.example:${port}`;

  beforeAll(async () => {
    fresh = await startTestGateway({ env: { ALLOWED_HOSTS: "gw.internal" } });
    port = new URL(fresh.url).port;
  });
  afterAll(async () => {
    await fresh.stop();
  });

  test("a rebound name cannot run /setup on a fresh install: 421 with a sentence, and no owner is made", async () => {
    const page = await fetch(`${fresh.url}/setup`, { headers: { host: rebound() } });
    expect(page.status).toBe(421);
    expect(await page.text()).toContain("BASE_URL");
    const posted = await fetch(`${fresh.url}/setup`, {
      method: "POST",
      redirect: "manual",
      headers: { host: rebound(), origin: `http://${rebound()}`, "content-type": "application/x-www-form-urlencoded" },
      body: form(SETUP_FORM),
    });
    expect(posted.status).toBe(421);
    expect(posted.headers.get("set-cookie")).toBeNull();
    expect(await isSetupDone(fresh.gateway.deps.database)).toBe(false);
  });

  test("a dashboard POST whose Origin is not BASE_URL's is refused, even under a name the gateway answers to", async () => {
    // gw.internal is in ALLOWED_HOSTS: the request reaches the app, but a page there is not BASE_URL.
    const posted = await fetch(`${fresh.url}/setup`, {
      method: "POST",
      redirect: "manual",
      headers: { host: `gw.internal:${port}`, origin: `http://gw.internal:${port}`, "content-type": "application/x-www-form-urlencoded" },
      body: form(SETUP_FORM),
    });
    expect(posted.status).toBe(403);
    expect(await isSetupDone(fresh.gateway.deps.database)).toBe(false);
  });

  test("the MCP endpoint refuses a foreign Host before it reads a key", async () => {
    const response = await fetch(`${fresh.url}/api/v1/mcp`, {
      method: "POST",
      headers: { host: rebound(), "content-type": "application/json", accept: "application/json, text/event-stream", authorization: "Bearer mgw_whatever" },
      body: initialize(),
    });
    expect(response.status).toBe(421);
  });

  test("health checks answer whatever Host a load balancer probes with", async () => {
    expect((await fetch(`${fresh.url}/healthz`, { headers: { host: `10.1.2.3:${port}` } })).status).toBe(200);
    expect((await fetch(`${fresh.url}/readyz`, { headers: { host: `10.1.2.3:${port}` } })).status).toBe(200);
  });

  describe("once set up", () => {
    let key: string;
    beforeAll(async () => {
      key = (await seedOwner(fresh)).key;
    });

    test("with a loopback BASE_URL, localhost and 127.0.0.1 are the same gateway: pages, sign-in and the MCP endpoint", async () => {
      const localhost = `localhost:${port}`;
      expect((await fetch(`${fresh.url}/sign-in`, { headers: { host: localhost } })).status).toBe(200);
      const signedIn = await fetch(`${fresh.url}/sign-in`, {
        method: "POST",
        redirect: "manual",
        headers: { host: localhost, origin: `http://${localhost}`, "content-type": "application/x-www-form-urlencoded" },
        body: form(OWNER),
      });
      expect(signedIn.status).toBe(303);
      const mcp = await fetch(`${fresh.url}/api/v1/mcp`, {
        method: "POST",
        headers: { host: localhost, origin: `http://${localhost}`, "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` },
        body: initialize(),
      });
      expect(mcp.status).toBe(200);
      await mcp.body?.cancel();
    });

    test("a name in ALLOWED_HOSTS reaches the API; a rebound one does not", async () => {
      const allowed = await fetch(`${fresh.url}/api/v1/keys`, { headers: { host: `gw.internal:${port}`, authorization: `Bearer ${key}` } });
      expect(allowed.status).toBe(200);
      const refused = await fetch(`${fresh.url}/api/v1/keys`, { headers: { host: rebound(), authorization: `Bearer ${key}` } });
      expect(refused.status).toBe(421);
    });

    test("the MCP endpoint's Origin check follows BASE_URL, never the request's own Host", async () => {
      const response = await fetch(`${fresh.url}/api/v1/mcp`, {
        method: "POST",
        headers: { host: `gw.internal:${port}`, origin: `http://gw.internal:${port}`, "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` },
        body: initialize(),
      });
      expect(response.status).toBe(403);
    });
  });
});

describe("with a public BASE_URL", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ env: { BASE_URL: "https://gw.example.com" } });
  });
  afterAll(async () => {
    await t.stop();
  });

  test("only BASE_URL's host is served: the address itself and localhost are refused", async () => {
    expect((await fetch(`${t.url}/sign-in`, { redirect: "manual", headers: { host: "gw.example.com" } })).status).not.toBe(421);
    expect((await fetch(`${t.url}/sign-in`, { redirect: "manual", headers: { host: "GW.example.com:443" } })).status).not.toBe(421);
    expect((await fetch(`${t.url}/sign-in`, { redirect: "manual" })).status).toBe(421);
    expect((await fetch(`${t.url}/sign-in`, { redirect: "manual", headers: { host: "localhost" } })).status).toBe(421);
  });
});

test("ALLOWED_HOSTS takes host names, with or without a port, and refuses anything else", () => {
  const good = loadConfig({ ALLOWED_HOSTS: "gw.internal, Gateway:8787,[::1]:9000" });
  expect(good.ok && good.config.allowedHosts).toEqual([
    { hostname: "gw.internal", port: null },
    { hostname: "gateway", port: "8787" },
    { hostname: "[::1]", port: "9000" },
  ]);
  const bad = loadConfig({ ALLOWED_HOSTS: "https://gw.internal/path" });
  expect(bad.ok).toBe(false);
  if (!bad.ok) expect(bad.errors.join(" ")).toContain("ALLOWED_HOSTS");
});
