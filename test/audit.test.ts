import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { asc, eq, sql } from "drizzle-orm";
import type { Database } from "../src/db/client.ts";
import { appendAuditEvents } from "../src/audit/record.ts";
import { dialects, OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient } from "./helpers/client.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { waitFor } from "./helpers/wait.ts";

const ROOT = join(import.meta.dir, "..");
const AGENT = "audit-test-agent/1.0";
const UPSTREAM_TOKEN = "upstream-canary-4f1d2c9e7b";
const DAY_MS = 86_400_000;

type Run = { code: number; stdout: string; stderr: string };

/** The real CLI as an operator runs it, against the gateway's database and key file. */
async function cli(t: TestGateway, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const database = t.config.database;
  const child = Bun.spawn([process.execPath, "src/main.ts", "audit", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      DATA_DIR: t.dataDir,
      DATABASE_URL: database.kind === "sqlite" ? database.path : database.url,
      ...env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

type Entry = Database["t"]["auditEvents"]["$inferSelect"];

async function trail(database: Database): Promise<Entry[]> {
  return database.db.select().from(database.t.auditEvents).orderBy(asc(database.t.auditEvents.seq));
}

/** Puts the trail back as it was, for the next tampering. */
async function restore(database: Database, rows: Entry[]): Promise<void> {
  await database.transaction(async (tx) => {
    await tx.delete(database.t.auditEvents);
    for (let i = 0; i < rows.length; i += 30) await tx.insert(database.t.auditEvents).values(rows.slice(i, i + 30));
  });
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return { "user-agent": AGENT, ...extra };
}

for (const dialect of dialects) {
  describe(`audit trail on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let owner: Awaited<ReturnType<typeof seedOwner>>;
    let ownerKeyId: string;
    let connectionId: string;
    const secrets: string[] = [UPSTREAM_TOKEN];

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      owner = await seedOwner(t);
      upstream = await startUpstream({ auth: { kind: "bearer", token: UPSTREAM_TOKEN } });
      secrets.push(owner.key);
      const [key] = await t.gateway.deps.database.db.select({ id: t.gateway.deps.database.t.apiKeys.id }).from(t.gateway.deps.database.t.apiKeys);
      ownerKeyId = key!.id;
    });
    afterAll(async () => {
      await upstream.stop();
      await t.stop();
    });

    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const response = await fetch(`${t.url}${path}`, {
        method,
        headers: headers({ authorization: `Bearer ${owner.key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };

    test("admin actions through the API, the dashboard and SCIM are recorded with who, when and from where, and no secret", async () => {
      const before = Date.now();
      const added = await call("POST", "/api/v1/connections", { name: "files", url: upstream.url, auth: { kind: "bearer", token: UPSTREAM_TOKEN }, expose: "all" });
      expect(added.status).toBe(201);
      connectionId = (added.json.connection as { id: string }).id;
      expect((await call("PATCH", `/api/v1/connections/${connectionId}/tools/add`, { enabled: false })).status).toBe(200);
      expect((await call("PUT", `/api/v1/connections/${connectionId}/tools`, { enabled: ["echo", "add"] })).status).toBe(200);
      expect((await call("PATCH", `/api/v1/connections/${connectionId}`, { callTimeoutMs: 20_000 })).status).toBe(200);
      const made = await call("POST", "/api/v1/keys", { name: "ci" });
      expect(made.status).toBe(201);
      secrets.push(made.json.key as string);
      expect((await call("DELETE", `/api/v1/keys/${made.json.id as string}`)).status).toBe(204);

      // The dashboard, signed in: a SCIM token, which the directory then uses.
      const cookie = await signIn(t);
      const scimMade = await fetch(`${t.url}/settings/scim/tokens`, {
        method: "POST",
        headers: headers({ "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie }),
        body: "name=Okta",
      });
      expect(scimMade.status).toBe(200);
      const scimToken = (await scimMade.text()).match(/mgw_scim_[a-z0-9]{32}/)![0];
      secrets.push(scimToken);
      const provisioned = await fetch(`${t.url}/scim/v2/Users`, {
        method: "POST",
        headers: headers({ authorization: `Bearer ${scimToken}`, "content-type": "application/scim+json" }),
        body: JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "erin@example.com", emails: [{ value: "erin@example.com", primary: true }], active: true }),
      });
      expect(provisioned.status).toBe(201);
      const erin = ((await provisioned.json()) as { id: string }).id;
      const promoted = await fetch(`${t.url}/settings/members/${erin}/role`, {
        method: "POST",
        headers: headers({ "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie }),
        body: "role=admin",
      });
      expect(promoted.status).toBeLessThan(400);

      const entries = (await trail(t.gateway.deps.database)).filter((e) => e.at >= before);
      const byAction = (action: string): Entry => {
        const found = entries.find((e) => e.action === action);
        if (!found) throw new Error(`no ${action} in ${entries.map((e) => e.action).join(", ")}`);
        return found;
      };
      const viaKey = `user:${owner.userId}/api_key:${ownerKeyId}`;
      for (const action of ["connection.added", "tool.disabled", "tools.picked", "connection.changed", "api_key.created", "api_key.revoked"]) {
        expect(byAction(action)).toMatchObject({ workspaceId: owner.workspaceId, actor: viaKey, fromIp: "127.0.0.1", fromUserAgent: AGENT });
      }
      expect(byAction("connection.added").target).toBe(`connection:${connectionId}`);
      expect(JSON.parse(byAction("connection.added").details)).toMatchObject({ name: "files", authKind: "bearer", tools: expect.any(Number) });
      expect(JSON.parse(byAction("tool.disabled").details)).toEqual({ connection: "files", tool: "add" });
      expect(byAction("scim_token.created")).toMatchObject({ actor: `user:${owner.userId}`, fromIp: "127.0.0.1", fromUserAgent: AGENT });
      expect(byAction("member.provisioned").actor).toMatch(/^scim:/);
      expect(byAction("member.provisioned").target).toBe(`user:${erin}`);
      expect(byAction("member.role_changed")).toMatchObject({ actor: `user:${owner.userId}`, target: `user:${erin}` });
      expect(JSON.parse(byAction("member.role_changed").details)).toEqual({ from: "member", to: "admin" });
      for (const entry of entries) expect(entry.at).toBeGreaterThanOrEqual(before);

      // Not one secret, raw or in part, anywhere in the trail — with a positive control that the
      // upstream really received the token the trail must not hold.
      expect(upstream.requests.some((r) => r.authorization === `Bearer ${UPSTREAM_TOKEN}`)).toBe(true);
      const all = JSON.stringify(await trail(t.gateway.deps.database));
      for (const secret of secrets) {
        expect(all).not.toContain(secret);
        expect(all).not.toContain(secret.slice(-16));
      }
    });

    test("a real call through the gateway is in the trail once, with its caller and address", async () => {
      const client = await connectClient(t.url, owner.key);
      try {
        const result = await client.callTool({ name: "files__echo", arguments: { message: "hello" } });
        expect(result.isError).toBeFalsy();
      } finally {
        await client.close();
      }
      await t.gateway.deps.accessLog.flush();
      const { database } = t.gateway.deps;
      const [logged] = await database.db.select().from(database.t.accessLog).where(eq(database.t.accessLog.tool, "echo"));
      const calls = (await trail(database)).filter((e) => e.action === "tool.called" && JSON.parse(e.details).accessLogId === logged!.id);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ workspaceId: owner.workspaceId, actor: `user:${owner.userId}/credential:${ownerKeyId}`, target: "files/echo", fromIp: "127.0.0.1", at: logged!.at });
      expect(JSON.parse(calls[0]!.details)).toMatchObject({ outcome: "ok" });
    });

    test("audit verify passes on the untouched trail, and names an edited, a removed and a reordered entry", async () => {
      const { database } = t.gateway.deps;
      const ok = await cli(t, ["verify"]);
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^The audit trail verifies: \d+ entries, #1 to #\d+\. Head hash: [0-9a-f]{64}\n$/);
      const rows = await trail(database);
      expect(rows.length).toBeGreaterThanOrEqual(8);
      const victim = rows[3]!;

      // Changed: a connection's name rewritten in place.
      await database.db.update(database.t.auditEvents).set({ details: victim.details.replace(/"/, '"x') }).where(eq(database.t.auditEvents.seq, victim.seq));
      const edited = await cli(t, ["verify"]);
      expect(edited.code).toBe(1);
      expect(edited.stderr).toContain(`Entry #${victim.seq} (${victim.action} at `);
      expect(edited.stderr).toContain("was changed");
      await restore(database, rows);
      expect((await cli(t, ["verify"])).code).toBe(0);

      // Removed.
      await database.db.delete(database.t.auditEvents).where(eq(database.t.auditEvents.seq, victim.seq));
      const removed = await cli(t, ["verify"]);
      expect(removed.code).toBe(1);
      expect(removed.stderr).toContain(`Entry #${victim.seq} was removed`);
      await restore(database, rows);

      // Reordered: two entries swap places (their numbers).
      const next = rows[4]!;
      await database.transaction(async (tx) => {
        await tx.update(database.t.auditEvents).set({ seq: -1 }).where(eq(database.t.auditEvents.seq, victim.seq));
        await tx.update(database.t.auditEvents).set({ seq: victim.seq }).where(eq(database.t.auditEvents.seq, next.seq));
        await tx.update(database.t.auditEvents).set({ seq: next.seq }).where(eq(database.t.auditEvents.seq, -1));
      });
      const reordered = await cli(t, ["verify"]);
      expect(reordered.code).toBe(1);
      expect(reordered.stderr).toContain(`Entries were reordered at #${victim.seq}`);
      await restore(database, rows);

      // The first entry removed: nothing vouches for where the trail starts.
      await database.db.delete(database.t.auditEvents).where(eq(database.t.auditEvents.seq, 1));
      const headless = await cli(t, ["verify"]);
      expect(headless.code).toBe(1);
      expect(headless.stderr).toContain("Entry #1 was removed");
      await restore(database, rows);
      expect((await cli(t, ["verify"])).code).toBe(0);
    }, 60_000);

    test("audit export streams JSON lines for a time range; the dashboard button streams the workspace's trail to admins only", async () => {
      const rows = await trail(t.gateway.deps.database);
      const all = await cli(t, ["export"]);
      expect(all.code).toBe(0);
      const lines = all.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { seq: number; at: string; hash: string; prevHash: string; action: string; from: { ip: string | null } });
      expect(lines.map((l) => l.seq)).toEqual(rows.map((r) => r.seq));
      expect(lines[1]!.prevHash).toBe(lines[0]!.hash);
      const future = await cli(t, ["export", "--from", new Date(Date.now() + DAY_MS).toISOString()]);
      expect(future).toMatchObject({ code: 0, stdout: "" });
      const pastOnly = await cli(t, ["export", "--to", new Date(rows[2]!.at).toISOString()]);
      for (const line of pastOnly.stdout.trimEnd().split("\n")) expect(Date.parse((JSON.parse(line) as { at: string }).at)).toBeLessThan(rows[2]!.at);
      expect((await cli(t, ["export", "--from", "yesterday-ish"])).code).toBe(2);

      const cookie = await signIn(t);
      const page = await (await fetch(`${t.url}/access-log`, { headers: { cookie } })).text();
      expect(page).toContain('action="/audit/export"');
      const download = await fetch(`${t.url}/audit/export`, { headers: { cookie } });
      expect(download.status).toBe(200);
      expect(download.headers.get("content-type")).toContain("application/x-ndjson");
      expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-/);
      const downloaded = (await download.text()).trimEnd().split("\n").map((line) => JSON.parse(line) as { seq: number; workspaceId: string });
      expect(downloaded.length).toBe(rows.filter((r) => r.workspaceId === owner.workspaceId).length);
      expect(new Set(downloaded.map((d) => d.workspaceId))).toEqual(new Set([owner.workspaceId]));
      const viaApi = await fetch(`${t.url}/api/v1/audit/export?from=2000-01-01`, { headers: { authorization: `Bearer ${owner.key}` } });
      expect((await viaApi.text()).trimEnd().split("\n")).toHaveLength(downloaded.length);

      // A member (no admin) gets no trail.
      const member = await t.gateway.deps.database.db.select().from(t.gateway.deps.database.t.memberships).where(eq(t.gateway.deps.database.t.memberships.role, "admin"));
      expect(member.length).toBeGreaterThan(0);
      const { createApiKey } = await import("../src/accounts/api-keys.ts");
      const { changeMemberRole } = await import("../src/accounts/members.ts");
      const erin = member[0]!.userId;
      const principal = { workspaceId: owner.workspaceId, userId: owner.userId, email: OWNER.email, role: "owner" as const, credential: { kind: "session" as const } };
      expect((await changeMemberRole(t.gateway.deps.database, principal, erin, "member")).ok).toBe(true);
      const erinKey = await createApiKey(t.gateway.deps.database, { workspaceId: owner.workspaceId, userId: erin, name: "erin" });
      if (!erinKey.ok) throw new Error("key");
      const refused = await fetch(`${t.url}/api/v1/audit/export`, { headers: { authorization: `Bearer ${erinKey.key}` } });
      expect(refused.status).toBe(403);
    }, 60_000);

    test("a key rotation is in the trail, and the trail still verifies with the new key", async () => {
      const database = t.config.database;
      const rotated = Bun.spawn([process.execPath, "src/main.ts", "rotate-key"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DATA_DIR: t.dataDir, DATABASE_URL: database.kind === "sqlite" ? database.path : database.url },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await rotated.exited).toBe(0);
      const last = (await trail(t.gateway.deps.database)).at(-1)!;
      expect(last).toMatchObject({ action: "encryption_key.rotated", actor: "system", workspaceId: null });
      expect((await cli(t, ["verify"])).code).toBe(0);
    }, 60_000);
  });

  describe(`audit retention on ${dialect}`, () => {
    let t: TestGateway;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
    });
    afterAll(async () => {
      await t.stop();
    });

    test("entries older than AUDIT_RETENTION_DAYS are removed behind a signed anchor; the rest verifies; a forged anchor is caught", async () => {
      const { database } = t.gateway.deps;
      const old = Date.now() - 40 * DAY_MS;
      // The trail's first five entries are from 40 days ago; then the owner and their key, today.
      await database.transaction((tx) =>
        appendAuditEvents(database, tx, Array.from({ length: 5 }, (_, i) => ({ workspaceId: null, action: "test.old", target: null, details: { i }, at: old + i }))),
      );
      const owner = await seedOwner(t);
      const rows = (await trail(database)).filter((e) => e.at < old + DAY_MS);
      const oldCount = rows.length;
      expect((await api(t.url, owner.key)("POST", "/api/v1/keys", { name: "recent" })).status).toBe(201);
      expect((await cli(t, ["verify"])).code).toBe(0);

      const pruned = await cli(t, ["prune"], { AUDIT_RETENTION_DAYS: "30" });
      expect(pruned.stderr).toBe("");
      expect(pruned.stdout).toBe(`Removed ${oldCount} audit entries (through #${oldCount}); a signed anchor keeps the rest verifiable.\n`);
      const kept = await trail(database);
      expect(kept.map((e) => e.action)).toEqual(["api_key.created", "api_key.created", "audit.pruned"]);
      expect(kept[0]!.seq).toBe(oldCount + 1);
      const verified = await cli(t, ["verify"]);
      expect(verified.code).toBe(0);
      expect(verified.stdout).toContain(`entries up to #${oldCount} were removed by retention; its signed anchor checks out`);

      // Someone with the database but not the key: removes one more entry and moves the anchor over it.
      const [anchor] = await database.db.select().from(database.t.auditAnchors);
      await database.db.delete(database.t.auditEvents).where(eq(database.t.auditEvents.seq, oldCount + 1));
      await database.db.update(database.t.auditAnchors).set({ seq: oldCount + 1, hash: kept[0]!.hash });
      const forged = await cli(t, ["verify"]);
      expect(forged.code).toBe(1);
      expect(forged.stderr).toContain("The retention anchor (entries up to #" + (oldCount + 1) + " removed) has a signature that does not match");
      // Put back: it verifies again; without the anchor, the start of the trail is unaccounted for.
      await database.db.update(database.t.auditAnchors).set({ seq: anchor!.seq, hash: anchor!.hash });
      await restore(database, kept);
      expect((await cli(t, ["verify"])).code).toBe(0);
      await database.db.delete(database.t.auditAnchors);
      const unanchored = await cli(t, ["verify"]);
      expect(unanchored.code).toBe(1);
      expect(unanchored.stderr).toContain(`Entries #1 to #${oldCount} were removed`);
    }, 60_000);
  });
}

for (const dialect of dialects) {
  describe(`a serving gateway with AUDIT_RETENTION_DAYS on ${dialect}`, () => {
    test("applies it by itself: old entries go, the anchor is written, and the trail verifies", async () => {
      const first = await startTestGateway({ dialect });
      const { database } = first.gateway.deps;
      const old = Date.now() - 10 * DAY_MS;
      await database.transaction((tx) => appendAuditEvents(database, tx, [0, 1, 2].map((i) => ({ workspaceId: null, action: "test.old", target: null, details: { i }, at: old + i }))));
      await seedOwner(first);
      await first.gateway.stop();
      const databaseUrl = first.config.database.kind === "postgres" ? first.config.database.url : undefined;
      const second = await startTestGateway({ dialect, reuse: { dataDir: first.dataDir, databaseUrl }, env: { AUDIT_RETENTION_DAYS: "7" } });
      try {
        const { database: reopened } = second.gateway.deps;
        await waitFor(async () => (await reopened.db.select().from(reopened.t.auditAnchors)).length > 0, { timeoutMs: 15_000, what: "the retention anchor" });
        expect((await trail(reopened)).map((e) => e.action)).toEqual(["api_key.created", "audit.pruned"]);
        const verified = await cli(second, ["verify"]);
        expect(verified.stdout).toContain("entries up to #3 were removed by retention");
        expect(verified.code).toBe(0);
      } finally {
        await second.stop();
        await first.stop();
      }
    }, 60_000);
  });
}

if (dialects.includes("postgres")) {
  describe("audit trail with two gateways on one PostgreSQL", () => {
    let a: TestGateway;
    let b: TestGateway;

    beforeAll(async () => {
      a = await startTestGateway({ dialect: "postgres" });
      const url = (a.config.database as { url: string }).url;
      b = await startTestGateway({ dialect: "postgres", reuse: { dataDir: a.dataDir, databaseUrl: url } });
    });
    afterAll(async () => {
      await b.stop();
      await a.stop();
    });

    test("appending at once from both leaves one chain, numbered without a gap, that verifies", async () => {
      const owner = await seedOwner(a);
      const burst = (t: TestGateway, tool: string): void => {
        for (let i = 0; i < 300; i++) {
          t.gateway.deps.accessLog.record({ at: Date.now(), workspaceId: owner.workspaceId, userId: owner.userId, apiKeyId: null, connectionName: "x", tool, outcome: "ok", latencyMs: 1, errorSummary: null });
        }
      };
      burst(a, "from_a");
      burst(b, "from_b");
      const keys = (t: TestGateway): Promise<unknown>[] => Array.from({ length: 15 }, (_, i) => api(t.url, owner.key)("POST", "/api/v1/keys", { name: `${t === a ? "a" : "b"}${i}` }));
      await Promise.all([...keys(a), ...keys(b), a.gateway.deps.accessLog.flush(), b.gateway.deps.accessLog.flush()]);
      await Promise.all([a.gateway.deps.accessLog.flush(), b.gateway.deps.accessLog.flush()]);
      const rows = await trail(a.gateway.deps.database);
      expect(rows.filter((r) => r.action === "tool.called")).toHaveLength(600);
      expect(rows.filter((r) => r.action === "api_key.created")).toHaveLength(31);
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      const [forks] = await a.gateway.deps.database.db.select({ n: sql<number>`count(*) - count(distinct ${a.gateway.deps.database.t.auditEvents.prevHash})` }).from(a.gateway.deps.database.t.auditEvents);
      expect(Number(forks!.n)).toBe(0);
      const verified = await cli(a, ["verify"]);
      expect(verified.stdout).toContain(`${rows.length} entries`);
      expect(verified.code).toBe(0);
    }, 60_000);
  });
}
