import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api } from "./helpers/client.ts";
import { addMember } from "./helpers/members.ts";

for (const dialect of dialects) {
  describe(`access log writing on ${dialect}`, () => {
    let t: TestGateway;
    let owner: Awaited<ReturnType<typeof seedOwner>>;
    let reopened: TestGateway | null = null;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      owner = await seedOwner(t);
    });
    afterAll(async () => {
      await reopened?.stop();
      await t.stop();
    });

    const rowsFor = async (tool: string, on: TestGateway = t): Promise<number> => {
      const { database } = on.gateway.deps;
      const [row] = await database.db.select({ n: count() }).from(database.t.accessLog).where(eq(database.t.accessLog.tool, tool));
      return Number(row!.n);
    };

    const burst = (tool: string, n: number): void => {
      const base = Date.now();
      for (let i = 0; i < n; i++) {
        t.gateway.deps.accessLog.record({
          at: base + i,
          workspaceId: owner.workspaceId,
          userId: owner.userId,
          apiKeyId: null,
          connectionName: "burst",
          tool,
          outcome: i % 3 === 0 ? "tool_error" : "ok",
          latencyMs: i % 50,
          errorSummary: i % 3 === 0 ? `failure ${i}` : null,
        });
      }
    };

    test("a burst of 2,500 calls is written in full, every field intact, and listed newest first", async () => {
      burst("burst_tool", 2500);
      await t.gateway.deps.accessLog.flush();
      expect(t.gateway.deps.accessLog.pending).toBe(0);
      expect(await rowsFor("burst_tool")).toBe(2500);
      const listed = await api(t.url, owner.key)("GET", "/api/v1/access-log?tool=burst_tool&outcome=tool_error");
      const entries = listed.json.entries as { tool: string; outcome: string; errorSummary: string | null; latencyMs: number; connectionName: string; userId: string }[];
      expect(entries.length).toBeGreaterThan(0);
      expect(entries[0]).toMatchObject({ tool: "burst_tool", outcome: "tool_error", errorSummary: "failure 2499", latencyMs: 2499 % 50, connectionName: "burst", userId: owner.userId });
    });

    test("a call recorded again (a write retried after it had succeeded) is stored and audited once, its text exactly as given, a missing kind a tool", async () => {
      const { database } = t.gateway.deps;
      const id = Bun.randomUUIDv7();
      const errorSummary = 'NULL, "quoted" {braces} back\\slash\nsecond line, é';
      const entry = { id, at: Date.now(), workspaceId: owner.workspaceId, userId: owner.userId, apiKeyId: null, connectionName: "again", tool: "twice", outcome: "tool_error" as const, latencyMs: 3, errorSummary };
      t.gateway.deps.accessLog.record(entry);
      await t.gateway.deps.accessLog.flush();
      t.gateway.deps.accessLog.record(entry);
      t.gateway.deps.accessLog.record({ ...entry, id: Bun.randomUUIDv7(), errorSummary: null });
      await t.gateway.deps.accessLog.flush();
      const rows = await database.db.select().from(database.t.accessLog).where(eq(database.t.accessLog.tool, "twice"));
      expect(rows).toHaveLength(2);
      expect(rows.find((row) => row.id === id)).toMatchObject({ kind: "tool", errorSummary, credentialUserId: null, latencyMs: 3 });
      const audited = await database.db.select().from(database.t.auditEvents).where(eq(database.t.auditEvents.target, "again/twice"));
      expect(audited.filter((row) => JSON.parse(row.details).accessLogId === id)).toHaveLength(1);
      expect(audited).toHaveLength(2);
    });

    test("entries still queued when the gateway stops are written before it exits", async () => {
      burst("queued_at_stop", 700);
      expect(t.gateway.deps.accessLog.pending).toBeGreaterThan(0);
      await t.gateway.stop();
      // The same database, read again through a fresh gateway on it.
      const databaseUrl = t.config.database.kind === "postgres" ? t.config.database.url : undefined;
      reopened = await startTestGateway({ dialect, reuse: { dataDir: t.dataDir, databaseUrl } });
      expect(await rowsFor("queued_at_stop", reopened)).toBe(700);
    });
  });
}

for (const dialect of dialects) {
  describe(`who reads the access log API on ${dialect}`, () => {
    let t: TestGateway;
    let owner: Awaited<ReturnType<typeof seedOwner>>;
    let member: { userId: string; key: string };
    let other: { userId: string; key: string };


    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      owner = await seedOwner(t);
      member = await addMember(t, owner.workspaceId, "member@example.com");
      other = await addMember(t, owner.workspaceId, "other@example.com");
      const base = Date.now();
      for (const [i, who] of [owner, member, other, owner, member, other].entries()) {
        t.gateway.deps.accessLog.record({ at: base + i, workspaceId: owner.workspaceId, userId: who.userId, apiKeyId: null, connectionName: "c", tool: `tool_${i}`, outcome: "ok", latencyMs: 1, errorSummary: null });
      }
      await t.gateway.deps.accessLog.flush();
    });
    afterAll(async () => {
      await t.stop();
    });

    const usersIn = async (key: string, query: string): Promise<string[]> => {
      const listed = await api(t.url, key)("GET", `/api/v1/access-log${query}`);
      expect(listed.status).toBe(200);
      return [...new Set((listed.json.entries as { userId: string }[]).map((e) => e.userId))];
    };

    test("a member's key reads only their own calls, whatever the filter asks for", async () => {
      expect(await usersIn(member.key, "")).toEqual([member.userId]);
      expect(await usersIn(member.key, "?connection=c&outcome=ok")).toEqual([member.userId]);
      expect(await usersIn(member.key, `?user=${other.userId}`)).toEqual([member.userId]);
      expect(await usersIn(member.key, `?userId=${owner.userId}`)).toEqual([member.userId]);
      expect((await api(t.url, member.key)("GET", "/api/v1/access-log")).json.entries).toHaveLength(2);
    });

    test("an owner's key reads the whole workspace, and can filter by user", async () => {
      expect((await usersIn(owner.key, "")).sort()).toEqual([owner.userId, member.userId, other.userId].sort());
      expect(await usersIn(owner.key, `?user=${other.userId}`)).toEqual([other.userId]);
    });
  });
}
