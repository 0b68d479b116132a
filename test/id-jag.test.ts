import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { dialects, OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient } from "./helpers/client.ts";
import { connectProvider, CookieJar, linkFromAccount, startTestIdp, walkSignIn, type TestIdp } from "./helpers/oidc-provider.ts";
import { startIdJagUpstream, type IdJagUpstream } from "./helpers/idjag-server.ts";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { newId } from "../src/crypto/tokens.ts";
import { textOnly as text } from "./helpers/results.ts";

type Person = { userId: string; key: string; subject: string | null };

for (const dialect of dialects) {
  describe(`enterprise-managed authorization (ID-JAG) on ${dialect}`, () => {
    let t: TestGateway;
    let idp: TestIdp;
    let upstream: IdJagUpstream;
    let owner: Person;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let workspaceId: string;
    let connectionId: string;

    const subjectOf = async (userId: string): Promise<string | null> => {
      const { db, t: tables } = t.gateway.deps.database;
      const [row] = await db.select({ subject: tables.ssoIdentities.subject }).from(tables.ssoIdentities).where(eq(tables.ssoIdentities.userId, userId));
      return row?.subject ?? null;
    };
    /** A member who signs in through the IdP (their account is created then), with an API key. */
    const ssoMember = async (email: string): Promise<Person> => {
      const { response } = await walkSignIn(new CookieJar(), { url: `${t.url}/sso/start` }, { email });
      expect(response.status).toBe(303);
      const { db, t: tables } = t.gateway.deps.database;
      const [user] = await db.select().from(tables.users).where(eq(tables.users.email, email));
      const key = await createApiKey(t.gateway.deps.database, { workspaceId, userId: user!.id, name: "agent" });
      if (!key.ok) throw new Error("key");
      return { userId: user!.id, key: key.key, subject: await subjectOf(user!.id) };
    };
    const callAs = async (person: Person, message: string): Promise<CallToolResult> => {
      const client = await connectClient(t.url, person.key);
      try {
        return (await client.callTool({ name: "crm__echo", arguments: { message } })) as CallToolResult;
      } finally {
        await client.close();
      }
    };
    const redeemedBy = (person: Person): number => upstream.redeemed.filter((sub) => sub === person.subject).length;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      const seeded = await seedOwner(t);
      workspaceId = seeded.workspaceId;
      idp = await startTestIdp({
        redirectUris: [`${t.url}/sso/callback`],
        users: [{ email: OWNER.email }, { email: "alice@example.com" }, { email: "bob@example.com" }],
      });
      const ownerCookie = await signIn(t);
      const { tested } = await connectProvider(t.url, ownerCookie, idp, {}, { email: OWNER.email });
      expect(tested.status).toBeLessThan(400);
      // The owner links their password account to the IdP from their account page (a first SSO
      // sign-in never links a password account by email).
      expect((await linkFromAccount(t.url, ownerCookie, { email: OWNER.email })).status).toBe(303);
      owner = { userId: seeded.userId, key: seeded.key, subject: await subjectOf(seeded.userId) };
      expect(owner.subject).not.toBeNull();
      upstream = await startIdJagUpstream({ idpIssuer: idp.issuer });
      alice = await ssoMember("alice@example.com");
      bob = await ssoMember("bob@example.com");
      // Carol has a local account only: the gateway cannot vouch for her at the IdP.
      const carolId = newId();
      const { database } = t.gateway.deps;
      await database.db.insert(database.t.users).values({ id: carolId, email: "carol@example.com", name: "Carol", passwordHash: null, createdAt: Date.now() });
      await database.db.insert(database.t.memberships).values({ workspaceId, userId: carolId, role: "member", createdAt: Date.now() });
      const carolKey = await createApiKey(database, { workspaceId, userId: carolId, name: "agent" });
      if (!carolKey.ok) throw new Error("key");
      carol = { userId: carolId, key: carolKey.key, subject: null };
    });
    afterAll(async () => {
      await t.stop();
      await Promise.all([idp.stop(), upstream.stop()]);
    });

    test("ID-JAG is per member only, its client is checked, and the admin's own token lists the tools", async () => {
      const call = api(t.url, owner.key);
      const auth = { kind: "id-jag", clientId: upstream.client.clientId, clientSecret: upstream.client.clientSecret };
      const shared = await call("POST", "/api/v1/connections", { name: "crm", url: upstream.url, auth });
      expect(shared.status).toBe(422);
      expect(JSON.stringify(shared.json)).toContain("per-member");
      // The dashboard's Add server form offers the same choice, with the same rule.
      const cookie = await signIn(t);
      const form = await fetch(`${t.url}/connections`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie },
        body: new URLSearchParams({ name: "crm", url: upstream.url, auth: "id-jag", sharing: "shared", idjagClientId: upstream.client.clientId, idjagClientSecret: upstream.client.clientSecret }),
      });
      expect(form.status).toBe(422);
      const page = await form.text();
      expect(page).toContain("choose per-member sharing");
      expect(page).toContain('value="id-jag" checked');
      expect(page).not.toContain(upstream.client.clientSecret);
      const wrong = await call("POST", "/api/v1/connections", { name: "crm", url: upstream.url, sharing: "per_member", auth: { ...auth, clientSecret: "not-the-secret" } });
      expect(wrong.status).toBe(422);
      expect(upstream.refusedGrants).toContain("invalid_client");
      expect((await call("GET", "/api/v1/connections")).json.connections).toEqual([]);

      const added = await call("POST", "/api/v1/connections", { name: "crm", url: upstream.url, sharing: "per_member", auth });
      expect(added.status).toBe(201);
      expect(added.json.connection).toMatchObject({ sharing: "per_member", auth: { kind: "id-jag" }, status: "connected", tools: 1 });
      connectionId = (added.json.connection as { id: string }).id;
      // The IdP issued one ID-JAG, for the owner, addressed to the upstream's AS and resource.
      expect(idp.idJags.at(-1)).toEqual({ sub: owner.subject!, aud: upstream.issuer, resource: upstream.url, clientId: upstream.client.clientId });
      expect(upstream.redeemed).toEqual([owner.subject!]);
    });

    test("two members' calls carry their own upstream identities, also when they call at the same time", async () => {
      const start = upstream.callSubjects.length;
      const results = await Promise.all([callAs(alice, "a1"), callAs(bob, "b1"), callAs(alice, "a2"), callAs(bob, "b2"), callAs(owner, "o1")]);
      for (const result of results) expect(result.isError).toBeFalsy();
      const seen = upstream.callSubjects.slice(start);
      expect(seen.filter((s) => s === alice.subject)).toHaveLength(2);
      expect(seen.filter((s) => s === bob.subject)).toHaveLength(2);
      expect(seen.filter((s) => s === owner.subject)).toHaveLength(1);
      expect(new Set([alice.subject, bob.subject, owner.subject]).size).toBe(3);
      // One exchange per member, however many of their calls arrived together.
      expect(redeemedBy(alice)).toBe(1);
      expect(redeemedBy(bob)).toBe(1);
      // Later calls reuse each member's sealed token; nobody borrows another's.
      await callAs(bob, "b3");
      await callAs(alice, "a3");
      expect(upstream.callSubjects.slice(-2)).toEqual([bob.subject!, alice.subject!]);
      expect(redeemedBy(alice)).toBe(1);
      await t.gateway.deps.accessLog.flush();
      const { database } = t.gateway.deps;
      const rows = await database.db.select().from(database.t.accessLog).where(and(eq(database.t.accessLog.workspaceId, workspaceId), eq(database.t.accessLog.connectionName, "crm")));
      for (const row of rows.filter((r) => r.outcome === "ok")) expect(row.credentialUserId).toBe(row.userId);
    });

    test("each member's token is sealed in their own row and never shown", async () => {
      const { database } = t.gateway.deps;
      const mc = database.t.memberCredentials;
      const rows = await database.db.select().from(mc).where(eq(mc.connectionId, connectionId));
      expect(rows.map((r) => r.userId).sort()).toEqual([owner.userId, alice.userId, bob.userId].sort());
      for (const row of rows) expect(row.kind).toBe("id-jag");
      const cookie = await signIn(t);
      const call = api(t.url, owner.key);
      const answers = [
        JSON.stringify(rows),
        JSON.stringify((await call("GET", `/api/v1/connections/${connectionId}`)).json),
        JSON.stringify((await call("GET", "/api/v1/connections")).json),
        JSON.stringify((await api(t.url, alice.key)("GET", `/api/v1/connections/${connectionId}/my-account`)).json),
        await (await fetch(`${t.url}/connections/${connectionId}`, { headers: { cookie } })).text(),
        t.logs.join("\n"),
      ];
      expect(upstream.issued.length).toBeGreaterThanOrEqual(3);
      for (const answer of answers) {
        for (const token of upstream.issued) expect(answer).not.toContain(token);
        expect(answer).not.toContain(upstream.client.clientSecret);
      }
    });

    test("a refused upstream token and an expired one each bring a new exchange for that member only", async () => {
      upstream.forgetAccessTokens();
      expect((await callAs(alice, "after 401")).isError).toBeFalsy();
      expect(redeemedBy(alice)).toBe(2);
      expect(upstream.callSubjects.at(-1)).toBe(alice.subject!);

      upstream.setAccessTokenTtl(2);
      upstream.forgetAccessTokens();
      expect((await callAs(bob, "short-lived")).isError).toBeFalsy();
      expect(redeemedBy(bob)).toBe(2);
      // Past the renewal point: the gateway exchanges again before sending, without a 401 first.
      t.clock.advance(1100);
      upstream.setAccessTokenTtl(3600);
      expect((await callAs(bob, "renewed")).isError).toBeFalsy();
      expect(redeemedBy(bob)).toBe(3);
      expect(upstream.callSubjects.at(-1)).toBe(bob.subject!);
      expect(redeemedBy(alice)).toBe(2);
    });

    test("a member who did not sign in through SSO is told to, and nothing reaches the upstream", async () => {
      const before = upstream.callSubjects.length;
      const redeemed = upstream.redeemed.length;
      const result = await callAs(carol, "hello");
      expect(result.isError).toBe(true);
      expect(text(result)).toContain("sign in through SSO");
      expect(upstream.callSubjects.length).toBe(before);
      expect(upstream.redeemed.length).toBe(redeemed);
    });
  });
}
