import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient } from "./helpers/client.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { textOnly as text } from "./helpers/results.ts";
import { addMember, type Member as Person } from "./helpers/members.ts";

const TOKENS = { owner: "tok-owner-5d1c9a", alice: "tok-alice-8f2e71", bob: "tok-bob-3a9c40" };

const MEMBER_PASSWORD = { password: "member password" };


async function callAs(t: TestGateway, person: Person, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const client = await connectClient(t.url, person.key);
  try {
    return (await client.callTool({ name, arguments: args })) as CallToolResult;
  } finally {
    await client.close();
  }
}

/** The Authorization header of each tools/call the upstream received, in order. */
const callTokens = (upstream: Upstream): (string | null)[] => upstream.requests.filter((r) => r.method === "tools/call").map((r) => r.authorization);

for (const dialect of dialects) {
  describe(`per-member connections on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let owner: Person;
    let alice: Person;
    let bob: Person;
    let workspaceId: string;
    let connectionId: string;

    beforeAll(async () => {
      upstream = await startUpstream({ auth: { kind: "bearers", tokens: Object.values(TOKENS) }, tools: ["echo"] });
      t = await startTestGateway({ dialect });
      const seeded = await seedOwner(t);
      workspaceId = seeded.workspaceId;
      owner = { userId: seeded.userId, key: seeded.key, call: api(t.url, seeded.key) };
      alice = await addMember(t, workspaceId, "alice@example.com", MEMBER_PASSWORD);
      bob = await addMember(t, workspaceId, "bob@example.com", MEMBER_PASSWORD);
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop()]);
    });

    test("an admin adds a per-member connection with their own token, which lists the tools", async () => {
      const added = await owner.call("POST", "/api/v1/connections", { name: "crm", url: upstream.url, sharing: "per_member", auth: { kind: "bearer", token: TOKENS.owner } });
      expect(added.status).toBe(201);
      const connection = added.json.connection as { id: string; sharing: string; status: string; tools: number };
      expect(connection).toMatchObject({ sharing: "per_member", status: "connected", tools: 1 });
      connectionId = connection.id;
      // A member cannot add connections, per member or not.
      expect((await alice.call("POST", "/api/v1/connections", { name: "x", url: upstream.url, sharing: "per_member" })).status).toBe(403);
    });

    test("a member who has not connected gets a tool error telling them to connect their account", async () => {
      const before = upstream.calls;
      const result = await callAs(t, alice, "crm__echo", { message: "hi" });
      expect(result.isError).toBe(true);
      expect(text(result)).toContain("Connect your account in the gateway dashboard");
      expect(upstream.calls).toBe(before);
    });

    test("a member connects their own token: a wrong one is refused, a right one is stored", async () => {
      const wrong = await alice.call("PUT", `/api/v1/connections/${connectionId}/my-account`, { secret: "not-a-token" });
      expect(wrong.status).toBe(422);
      expect((await alice.call("PUT", `/api/v1/connections/${connectionId}/my-account`, { secret: TOKENS.alice })).status).toBe(200);
      expect((await bob.call("PUT", `/api/v1/connections/${connectionId}/my-account`, { secret: TOKENS.bob })).status).toBe(200);
      expect((await alice.call("GET", `/api/v1/connections/${connectionId}/my-account`)).json).toMatchObject({ connected: true, kind: "bearer" });
    });

    test("each member's calls carry their own token, also when they call at the same time", async () => {
      const start = callTokens(upstream).length;
      const results = await Promise.all([
        callAs(t, alice, "crm__echo", { message: "a1" }),
        callAs(t, bob, "crm__echo", { message: "b1" }),
        callAs(t, owner, "crm__echo", { message: "o1" }),
        callAs(t, alice, "crm__echo", { message: "a2" }),
      ]);
      for (const result of results) expect(result.isError).toBeFalsy();
      const seen = upstream.requests.filter((r) => r.method === "tools/call").slice(start);
      expect(seen).toHaveLength(4);
      expect(seen.filter((r) => r.authorization === `Bearer ${TOKENS.alice}`)).toHaveLength(2);
      expect(seen.filter((r) => r.authorization === `Bearer ${TOKENS.bob}`)).toHaveLength(1);
      expect(seen.filter((r) => r.authorization === `Bearer ${TOKENS.owner}`)).toHaveLength(1);
      // Sequentially, the pooled clients stay each member's own.
      await callAs(t, bob, "crm__echo", { message: "b2" });
      await callAs(t, alice, "crm__echo", { message: "a3" });
      expect(callTokens(upstream).slice(-2)).toEqual([`Bearer ${TOKENS.bob}`, `Bearer ${TOKENS.alice}`]);
    });

    test("the access log shows whose credential each call used", async () => {
      await t.gateway.deps.accessLog.flush();
      const { database } = t.gateway.deps;
      const rows = await database.db.select().from(database.t.accessLog).where(and(eq(database.t.accessLog.workspaceId, workspaceId), eq(database.t.accessLog.connectionName, "crm")));
      const ok = rows.filter((r) => r.outcome === "ok");
      expect(ok.length).toBeGreaterThanOrEqual(6);
      for (const row of ok) expect(row.credentialUserId).toBe(row.userId);
      const denied = rows.find((r) => r.outcome === "denied");
      expect(denied).toMatchObject({ userId: alice.userId, credentialUserId: null });
      const listed = await owner.call("GET", "/api/v1/access-log?connection=crm");
      expect(JSON.stringify(listed.json)).toContain(`"credentialUserId":"${bob.userId}"`);
      // The access log page says so too.
      const logPage = await (await fetch(`${t.url}/access-log?connection=crm`, { headers: { cookie: await signIn(t) } })).text();
      expect(logPage).toContain("with their own credential");
    });

    test("an admin cannot read a member's secret, and a member's sealed row moved to another member does not open", async () => {
      const cookie = await signIn(t);
      const page = await (await fetch(`${t.url}/connections/${connectionId}`, { headers: { cookie } })).text();
      expect(page).toContain("Your account");
      const answers = [
        JSON.stringify((await owner.call("GET", `/api/v1/connections/${connectionId}`)).json),
        JSON.stringify((await owner.call("GET", "/api/v1/connections")).json),
        JSON.stringify((await owner.call("GET", `/api/v1/connections/${connectionId}/my-account`)).json),
        page,
        t.logs.join("\n"),
      ];
      for (const answer of answers) {
        expect(answer).not.toContain(TOKENS.alice);
        expect(answer).not.toContain(TOKENS.bob);
      }
      // The ciphertext is bound to its row: Alice's copied into Bob's row fails closed for Bob.
      const { database } = t.gateway.deps;
      const mc = database.t.memberCredentials;
      const [aliceRow] = await database.db.select().from(mc).where(eq(mc.userId, alice.userId));
      await database.db.update(mc).set({ ciphertext: aliceRow!.ciphertext, updatedAt: Date.now() }).where(eq(mc.userId, bob.userId));
      t.gateway.deps.pool.drop(connectionId);
      const before = callTokens(upstream).length;
      const result = await callAs(t, bob, "crm__echo", { message: "stolen?" });
      expect(result.isError).toBe(true);
      expect(text(result)).toContain("your own credential");
      expect(callTokens(upstream).slice(before)).not.toContain(`Bearer ${TOKENS.alice}`);
      // One member's broken credential leaves the connection usable for the others.
      expect((await callAs(t, alice, "crm__echo", { message: "still fine" })).isError).toBeFalsy();
    });

    test("a member who disconnects is asked to connect again; the dashboard offers it", async () => {
      expect((await bob.call("DELETE", `/api/v1/connections/${connectionId}/my-account`)).status).toBe(204);
      const result = await callAs(t, bob, "crm__echo", { message: "again" });
      expect(text(result)).toContain("connect");
      const cookie = await signIn(t, "bob@example.com", MEMBER_PASSWORD.password);
      const page = await (await fetch(`${t.url}/connections/${connectionId}`, { headers: { cookie } })).text();
      expect(page).toContain("Not connected");
      expect(page).toContain("Connect your account");
      const form = await fetch(`${t.url}/connections/${connectionId}/my-account`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: t.url, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ secret: TOKENS.bob }),
      });
      expect(form.status).toBe(303);
      expect((await callAs(t, bob, "crm__echo", { message: "back" })).isError).toBeFalsy();
      expect(callTokens(upstream).at(-1)).toBe(`Bearer ${TOKENS.bob}`);
    });

    test("a per-member connection added without a token waits for the first member, whose credential lists the tools", async () => {
      const added = await owner.call("POST", "/api/v1/connections", { name: "later", url: upstream.url, sharing: "per_member", auth: { kind: "bearer", token: "" } });
      expect(added.status).toBe(201);
      const connection = added.json.connection as { id: string; status: string; tools: number };
      expect(connection).toMatchObject({ status: "needs_reauth", tools: 0 });
      expect((await alice.call("PUT", `/api/v1/connections/${connection.id}/my-account`, { secret: TOKENS.alice })).status).toBe(200);
      const after = (await alice.call("GET", `/api/v1/connections/${connection.id}`)).json.connection as { status: string; tools: number };
      expect(after).toMatchObject({ status: "connected", tools: 1 });
      expect((await callAs(t, alice, "later__echo", { message: "x" })).isError).toBeFalsy();
      // A shared connection has no "my account".
      const shared = await owner.call("POST", "/api/v1/connections", { name: "open", url: upstream.url, auth: { kind: "bearer", token: TOKENS.owner } });
      expect((shared.json.connection as { sharing: string }).sharing).toBe("shared");
      expect((await alice.call("PUT", `/api/v1/connections/${(shared.json.connection as { id: string }).id}/my-account`, { secret: TOKENS.alice })).status).toBe(404);
    });
  });
}
