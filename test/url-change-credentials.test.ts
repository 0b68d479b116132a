import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient } from "./helpers/client.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { textOnly as text } from "./helpers/results.ts";
import { addMember, type Member as Person } from "./helpers/members.ts";

const TOKENS = { owner: "tok-owner-url-71c2", alice: "tok-alice-url-9d04", bob: "tok-bob-url-2e8f", shared: "tok-shared-url-5a13", sharedNew: "tok-shared-new-0c6b" };



async function callAs(t: TestGateway, person: Person, name: string): Promise<CallToolResult> {
  const client = await connectClient(t.url, person.key);
  try {
    return (await client.callTool({ name, arguments: { message: "hi" } })) as CallToolResult;
  } finally {
    await client.close();
  }
}

/** Every Authorization header a server received, refused requests included. */
const seenTokens = (upstream: Upstream): (string | null)[] => upstream.requests.map((r) => r.authorization);

for (const dialect of dialects) {
  describe(`moving a connection to another server on ${dialect}`, () => {
    let t: TestGateway;
    let oldServer: Upstream;
    let newServer: Upstream;
    let owner: Person;
    let alice: Person;
    let bob: Person;

    beforeAll(async () => {
      // Both servers accept every token, so only the gateway's choices decide what the new one sees.
      const tokens = Object.values(TOKENS);
      [oldServer, newServer, t] = await Promise.all([
        startUpstream({ auth: { kind: "bearers", tokens }, tools: ["echo"] }),
        startUpstream({ auth: { kind: "bearers", tokens }, tools: ["echo"], name: "new-server" }),
        startTestGateway({ dialect }),
      ]);
      const seeded = await seedOwner(t);
      owner = { userId: seeded.userId, key: seeded.key, call: api(t.url, seeded.key) };
      alice = await addMember(t, seeded.workspaceId, "alice@example.com");
      bob = await addMember(t, seeded.workspaceId, "bob@example.com");
    });
    afterAll(async () => {
      await Promise.all([t.stop(), oldServer.stop(), newServer.stop()]);
    });

    test("a per-member connection moved to another origin is checked with the admin's own token only, and every other member connects again", async () => {
      const added = await owner.call("POST", "/api/v1/connections", { name: "crm", url: oldServer.url, sharing: "per_member", auth: { kind: "bearer", token: TOKENS.owner } });
      expect(added.status).toBe(201);
      const id = (added.json.connection as { id: string }).id;
      expect((await alice.call("PUT", `/api/v1/connections/${id}/my-account`, { secret: TOKENS.alice })).status).toBe(200);
      expect((await bob.call("PUT", `/api/v1/connections/${id}/my-account`, { secret: TOKENS.bob })).status).toBe(200);
      expect((await callAs(t, alice, "crm__echo")).isError).toBeFalsy();
      expect((await callAs(t, bob, "crm__echo")).isError).toBeFalsy();

      const moved = await owner.call("PATCH", `/api/v1/connections/${id}`, { url: newServer.url });
      expect(moved.status).toBe(200);
      // The check reached the new server with the admin's token, and with nobody else's.
      expect(seenTokens(newServer)).toContain(`Bearer ${TOKENS.owner}`);

      for (const member of [alice, bob]) {
        const result = await callAs(t, member, "crm__echo");
        expect(result.isError).toBe(true);
        expect(text(result)).toContain("Connect your account");
        expect((await member.call("GET", `/api/v1/connections/${id}/my-account`)).json).toMatchObject({ connected: false });
      }
      // The admin, who checked the new server with their own token, keeps it.
      expect((await callAs(t, owner, "crm__echo")).isError).toBeFalsy();
      for (const token of [TOKENS.alice, TOKENS.bob]) expect(seenTokens(newServer)).not.toContain(`Bearer ${token}`);
    });

    test("without a token of the admin's own, the move checks only the URL and waits for members to connect", async () => {
      const added = await owner.call("POST", "/api/v1/connections", { name: "desk", url: oldServer.url, sharing: "per_member", auth: { kind: "bearer", token: "" } });
      expect(added.status).toBe(201);
      const id = (added.json.connection as { id: string }).id;
      expect((await alice.call("PUT", `/api/v1/connections/${id}/my-account`, { secret: TOKENS.alice })).status).toBe(200);
      expect((await callAs(t, alice, "desk__echo")).isError).toBeFalsy();
      const before = newServer.requests.length;

      const moved = await owner.call("PATCH", `/api/v1/connections/${id}`, { url: newServer.url });
      expect(moved.status).toBe(200);
      expect(moved.json.connection).toMatchObject({ status: "needs_reauth" });
      expect(newServer.requests.length).toBe(before);
      const result = await callAs(t, alice, "desk__echo");
      expect(result.isError).toBe(true);
      expect(text(result)).toContain("Connect your account");
      expect(seenTokens(newServer)).not.toContain(`Bearer ${TOKENS.alice}`);
      // Connecting again works against the new server.
      expect((await alice.call("PUT", `/api/v1/connections/${id}/my-account`, { secret: TOKENS.alice })).status).toBe(200);
      expect((await callAs(t, alice, "desk__echo")).isError).toBeFalsy();
    });

    test("a new path or query on the same origin keeps every member's credential", async () => {
      const added = await owner.call("POST", "/api/v1/connections", { name: "wiki", url: oldServer.url, sharing: "per_member", auth: { kind: "bearer", token: TOKENS.owner } });
      const id = (added.json.connection as { id: string }).id;
      expect((await alice.call("PUT", `/api/v1/connections/${id}/my-account`, { secret: TOKENS.alice })).status).toBe(200);
      // The fixture serves /mcp only: a query stands in for another path on the same server.
      const samePlace = new URL(oldServer.url);
      samePlace.search = "?tenant=other";
      const moved = await owner.call("PATCH", `/api/v1/connections/${id}`, { url: samePlace.toString() });
      expect(moved.status).toBe(200);
      expect((await alice.call("GET", `/api/v1/connections/${id}/my-account`)).json).toMatchObject({ connected: true });
      expect((await callAs(t, alice, "wiki__echo")).isError).toBeFalsy();
    });

    test("a shared token is not sent to another origin: the move asks for the credential again, unless the same request brings one", async () => {
      const added = await owner.call("POST", "/api/v1/connections", { name: "ops", url: oldServer.url, auth: { kind: "bearer", token: TOKENS.shared } });
      expect(added.status).toBe(201);
      const id = (added.json.connection as { id: string }).id;

      const moved = await owner.call("PATCH", `/api/v1/connections/${id}`, { url: newServer.url });
      expect(moved.status).toBe(200);
      expect(moved.json.connection).toMatchObject({ status: "needs_reauth" });
      const result = await callAs(t, owner, "ops__echo");
      expect(result.isError).toBe(true);
      expect(seenTokens(newServer)).not.toContain(`Bearer ${TOKENS.shared}`);

      // Moving back and forth with a new credential in the same request probes it and keeps it.
      const back = await owner.call("PATCH", `/api/v1/connections/${id}`, { url: oldServer.url, auth: { kind: "bearer", token: TOKENS.shared } });
      expect(back.status).toBe(200);
      const withToken = await owner.call("PATCH", `/api/v1/connections/${id}`, { url: newServer.url, auth: { kind: "bearer", token: TOKENS.sharedNew } });
      expect(withToken.status).toBe(200);
      expect(withToken.json.connection).toMatchObject({ status: "connected" });
      expect((await callAs(t, owner, "ops__echo")).isError).toBeFalsy();
      expect(seenTokens(newServer)).toContain(`Bearer ${TOKENS.sharedNew}`);
      expect(seenTokens(newServer)).not.toContain(`Bearer ${TOKENS.shared}`);
    });
  });
}
