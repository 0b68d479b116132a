import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api } from "./helpers/client.ts";

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
