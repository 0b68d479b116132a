import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "./helpers/gateway.ts";

// Open endpoints store something per request; one address cannot make them fill the database.
describe("rate limits on open endpoints", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.stop());

  test("dynamic client registration: 30 an hour per address, then 429 with Retry-After", async () => {
    const register = () =>
      fetch(`${t.url}/oauth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_name: "flood", redirect_uris: ["http://127.0.0.1:9/cb"], token_endpoint_auth_method: "none" }),
      });
    for (let i = 0; i < 30; i++) expect((await register()).status).toBe(201);
    const refused = await register();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(3000);
    const { database } = t.gateway.deps;
    expect((await database.db.select().from(database.t.oauthClients)).length).toBe(30);
  });

  test("SSO starts: 60 a minute per address, then 429", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await fetch(`${t.url}/sso/start`, { redirect: "manual" })).status);
    expect(statuses.slice(0, 60).every((s) => s === 404)).toBe(true);
    expect(statuses[60]).toBe(429);
  });
});
