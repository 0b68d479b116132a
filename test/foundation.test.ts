import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dialects, OWNER, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";

const form = (t: TestGateway, body: Record<string, string>, cookie?: string): RequestInit => ({
  method: "POST",
  redirect: "manual",
  headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(body),
});

for (const dialect of dialects) {
  describe(`foundation on ${dialect}`, () => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await startTestGateway({ dialect });
    });
    afterAll(() => t.stop());

    test("health answers, and readiness reports the database", async () => {
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${t.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ok: true, failing: [], checks: { database: { ok: true }, migrations: { ok: true } } });
    });

    test("the first visit goes to setup; setup works once and only once", async () => {
      const first = await fetch(`${t.url}/`, { redirect: "manual" });
      expect(first.headers.get("location")).toBe("/setup");
      const page = await (await fetch(`${t.url}/setup`)).text();
      expect(page).toContain("Create owner account");

      const weak = await fetch(`${t.url}/setup`, form(t, { email: "nope", password: "short" }));
      expect(weak.status).toBe(422);
      const weakPage = await weak.text();
      expect(weakPage).toContain("Enter an email address");
      expect(weakPage).toContain("at least 10 characters");

      const ok = await fetch(`${t.url}/setup`, form(t, { email: OWNER.email, password: OWNER.password, workspace: "Acme" }));
      expect(ok.status).toBe(303);
      expect(ok.headers.get("set-cookie")).toMatch(/^mgw_session=[a-z0-9]+; Path=\/; HttpOnly; SameSite=Lax/);

      const again = await fetch(`${t.url}/setup`, form(t, { email: "other@example.com", password: "another password" }));
      expect(again.status).toBe(422);
      expect(await again.text()).toContain("already set up");
      expect((await fetch(`${t.url}/setup`, { redirect: "manual" })).headers.get("location")).toBe("/sign-in");
    });

    test("sign in with the right password, refuse a wrong one, sign out ends the session", async () => {
      const bad = await fetch(`${t.url}/sign-in`, form(t, { email: OWNER.email, password: "wrong password!" }));
      expect(bad.status).toBe(422);
      expect(await bad.text()).toContain("do not match an account");

      const cookie = await signIn(t);
      const home = await fetch(`${t.url}/`, { headers: { cookie } });
      expect(home.status).toBe(200);
      expect(await home.text()).toContain("/api/v1/mcp");

      const out = await fetch(`${t.url}/sign-out`, form(t, {}, cookie));
      expect(out.status).toBe(303);
      const after = await fetch(`${t.url}/`, { headers: { cookie }, redirect: "manual" });
      expect(after.headers.get("location")).toBe("/sign-in");
    });

    test("repeated failed sign-ins are slowed down, even with the right password", async () => {
      const email = OWNER.email;
      for (let i = 0; i < 4; i++) await fetch(`${t.url}/sign-in`, form(t, { email, password: `wrong-${i}-password` }));
      const blocked = await fetch(`${t.url}/sign-in`, form(t, { email, password: OWNER.password }));
      expect(blocked.status).toBe(429);
      expect(await blocked.text()).toMatch(/Too many failed attempts\. Try again in \d+ seconds?\./);
      await t.gateway.deps.database.db.delete(t.gateway.deps.database.t.signInAttempts);
    });

    test("a cross-site form post is refused", async () => {
      const cookie = await signIn(t);
      const response = await fetch(`${t.url}/keys`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", "sec-fetch-site": "cross-site", cookie },
        body: "name=stolen",
      });
      expect(response.status).toBe(403);
      const keys = await (await fetch(`${t.url}/keys`, { headers: { cookie } })).text();
      expect(keys).not.toContain("stolen");
    });

    test("an API key is shown once, works, and stops working the moment it is revoked", async () => {
      const cookie = await signIn(t);
      const created = await fetch(`${t.url}/keys`, form(t, { name: "laptop" }, cookie));
      expect(created.status).toBe(200);
      const html = await created.text();
      const key = html.match(/mgw_[a-z0-9]{32}/)?.[0];
      expect(key).toBeDefined();
      expect(html).toContain("will not be shown again");

      const list = await (await fetch(`${t.url}/keys`, { headers: { cookie } })).text();
      expect(list).toContain("laptop");
      expect(list).toContain(key!.slice(0, 10));
      expect(list).not.toContain(key!);

      const use = await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
      expect(use.status).toBe(200);
      const listed = (await use.json()) as { keys: { id: string; name: string; lastUsedAt: number | null }[] };
      const entry = listed.keys.find((k) => k.name === "laptop")!;
      expect(entry.lastUsedAt).not.toBeNull();
      expect(JSON.stringify(listed)).not.toContain(key!);

      const revoke = await fetch(`${t.url}/keys/${entry.id}/revoke`, form(t, {}, cookie));
      expect(revoke.status).toBe(303);
      const refused = await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: "unauthorized" });
      const unknown = await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: "Bearer mgw_notakey" } });
      expect(unknown.status).toBe(401);
    });

    test("a stranger is turned away before their body is read, however malformed it is", async () => {
      const json = { "content-type": "application/json" };
      for (const [method, path] of [["POST", "/api/v1/connections"], ["PATCH", "/api/v1/connections/nope"], ["PUT", "/api/v1/connections/nope/tools"]] as const) {
        const response = await fetch(`${t.url}${path}`, { method, headers: json, body: "{not json" });
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: "unauthorized" });
      }
      const page = await fetch(`${t.url}/connections/nope/edit`, { method: "POST", headers: { ...json, origin: t.url }, body: "{not json", redirect: "manual" });
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toBe("/sign-in");
    });

    test("dashboard pages have a CSP, deny framing, and the session cookie is HttpOnly", async () => {
      const response = await fetch(`${t.url}/sign-in`);
      expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-request-id")).toBeTruthy();
    });

    test("log lines are JSON with a request id", () => {
      const lines = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      const requests = lines.filter((l) => l.msg === "request");
      expect(requests.length).toBeGreaterThan(5);
      for (const r of requests) expect(typeof r.requestId).toBe("string");
      expect(t.logs.join("")).not.toContain(OWNER.password);
    });
  });
}
