import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api } from "./helpers/client.ts";
import { addMember, type Member } from "./helpers/members.ts";
import type { AccessLogEntry } from "../src/accesslog/recorder.ts";
import { exportAccessLog } from "../src/accesslog/export.ts";
import { summarizeUsage, usageByConnection, usageByTool, usageSeries } from "../src/usage/usage.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

for (const dialect of dialects) {
  describe(`access log search, detail, export and usage on ${dialect}`, () => {
    let t: TestGateway;
    let owner: Awaited<ReturnType<typeof seedOwner>>;
    let member: Member;
    let ownerCookie: string;
    const now = Date.now();
    // A fixed day long ago, so the date range has something to cut.
    const OLD_DAY = Date.parse("2026-03-14T00:00:00Z");

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      owner = await seedOwner(t);
      member = await addMember(t, owner.workspaceId, "member@example.com", { password: "member password 1" });
      ownerCookie = await signIn(t);
      const rows: AccessLogEntry[] = [];
      const base = { workspaceId: owner.workspaceId, apiKeyId: null, errorSummary: null } as const;
      // "github": 20 calls of search_issues in the last hour, latencies 1..20 ms, every fourth failed.
      for (let i = 1; i <= 20; i++) rows.push({ ...base, at: now - 30 * 60_000 + i, userId: owner.userId, connectionName: "github", tool: "search_issues", outcome: i % 4 === 0 ? "tool_error" : "ok", latencyMs: i });
      // Two days ago, outside the hour and the day, inside the week.
      rows.push({ ...base, at: now - 2 * DAY, userId: owner.userId, connectionName: "github", tool: "create_issue", outcome: "ok", latencyMs: 500 });
      // The member's calls, one with a tool name and error text a spreadsheet would run.
      rows.push({ ...base, at: now - HOUR / 2, userId: member.userId, connectionName: "linear-prod", tool: "=HYPERLINK(\"http://evil\")", outcome: "upstream_error", latencyMs: 7, errorSummary: '+cmd|"/c calc"!A1, then "quoted"\nsecond line' });
      rows.push({ ...base, at: OLD_DAY + 3 * HOUR, userId: member.userId, connectionName: "Linear-Staging", tool: "list_issues", outcome: "ok", latencyMs: 3 });
      rows.push({ ...base, at: OLD_DAY + DAY + HOUR, userId: owner.userId, connectionName: "github", tool: "list_100%_done", outcome: "ok", latencyMs: 4 });
      // Ids sort by the time a call is recorded: record in time order, as calls happen.
      for (const row of rows.sort((a, b) => a.at - b.at)) t.gateway.deps.accessLog.record(row);
      await t.gateway.deps.accessLog.flush();
    });
    afterAll(async () => {
      await t.stop();
    });

    const tools = async (key: string, query: string): Promise<string[]> => {
      const listed = await api(t.url, key)("GET", `/api/v1/access-log${query}`);
      expect(listed.status).toBe(200);
      return (listed.json.entries as { tool: string }[]).map((e) => e.tool);
    };

    test("connection and tool match anywhere in the name, ignoring case; % and _ are taken literally", async () => {
      expect(new Set(await tools(owner.key, "?connection=LINEAR"))).toEqual(new Set(["=HYPERLINK(\"http://evil\")", "list_issues"]));
      expect(await tools(owner.key, "?connection=staging&tool=ISSUES")).toEqual(["list_issues"]);
      expect(await tools(owner.key, "?tool=100%25_")).toEqual(["list_100%_done"]);
      expect(await tools(owner.key, "?tool=_issue&connection=git")).toContain("search_issues");
      expect(await tools(owner.key, "?tool=%25")).toEqual(["list_100%_done"]);
    });

    test("a date range keeps the calls between its ends, both days included; a bad date is a 422 naming the field", async () => {
      expect(new Set(await tools(owner.key, "?from=2026-03-14&to=2026-03-15"))).toEqual(new Set(["list_issues", "list_100%_done"]));
      expect(await tools(owner.key, "?from=2026-03-14&to=2026-03-14")).toEqual(["list_issues"]);
      expect(await tools(owner.key, "?from=2026-03-15T00:30&to=2026-03-15T01:30")).toEqual(["list_100%_done"]);
      expect(await tools(owner.key, `?from=${now - HOUR}&tool=create`)).toEqual([]);
      const bad = await api(t.url, owner.key)("GET", "/api/v1/access-log?from=yesterday");
      expect(bad.status).toBe(422);
      expect((bad.json.fields as Record<string, string>).from).toContain("date");
      const page = await fetch(`${t.url}/access-log?from=2026-03-15&to=2026-03-14`, { headers: { cookie: ownerCookie } });
      expect(page.status).toBe(422);
      expect(await page.text()).toContain("The end is before the start.");
    });

    test("a row's detail shows every field; a member cannot open another member's row", async () => {
      const listed = await api(t.url, owner.key)("GET", "/api/v1/access-log?tool=create_issue");
      const id = (listed.json.entries as { id: string }[])[0]!.id;
      const page = await fetch(`${t.url}/access-log/${id}`, { headers: { cookie: ownerCookie } });
      expect(page.status).toBe(200);
      const html = await page.text();
      for (const text of [id, "create_issue", "github", "owner@example.com", "500 ms"]) expect(html).toContain(text);
      const memberCookie = await signIn(t, "member@example.com", "member password 1");
      expect((await fetch(`${t.url}/access-log/${id}`, { headers: { cookie: memberCookie } })).status).toBe(404);
      const own = (await api(t.url, member.key)("GET", "/api/v1/access-log?tool=list_issues")).json.entries as { id: string }[];
      expect((await fetch(`${t.url}/access-log/${own[0]!.id}`, { headers: { cookie: memberCookie } })).status).toBe(200);
    });

    test("CSV export: every matching row, quotes doubled, formula-looking text defused; a member's export holds only their rows", async () => {
      const response = await fetch(`${t.url}/api/v1/access-log/export?format=csv`, { headers: { authorization: `Bearer ${owner.key}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/csv");
      expect(response.headers.get("content-disposition")).toMatch(/attachment; filename="access-log-.*\.csv"/);
      const csv = await response.text();
      const lines = csv.trimEnd().split("\r\n");
      expect(lines[0]).toBe("id,time,connection,tool,user,credential,outcome,latency_ms,error,own_credential");
      expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
      expect(csv).toContain(`"'+cmd|""/c calc""!A1, then ""quoted""\nsecond line"`);
      expect(csv).not.toMatch(/(^|,)[=+@-][^,]*/m);
      // The header and 20 + 1 + 2 + 1 rows (the error's bare \n stays inside its quoted field).
      expect(lines).toHaveLength(1 + 24);

      const mine = await (await fetch(`${t.url}/api/v1/access-log/export?format=csv&user=${owner.userId}`, { headers: { authorization: `Bearer ${member.key}` } })).text();
      expect(mine).toContain("member@example.com");
      expect(mine).not.toContain("owner@example.com");

      const memberCookie = await signIn(t, "member@example.com", "member password 1");
      const fromPage = await (await fetch(`${t.url}/access-log/export.csv`, { headers: { cookie: memberCookie } })).text();
      expect(fromPage.trimEnd().split("\r\n").filter((l) => l.includes("member@example.com"))).toHaveLength(2);
      expect(fromPage).not.toContain("owner@example.com");
    });

    test("JSON lines export follows the filter, one call per line, newest first, across many pages", async () => {
      const response = await fetch(`${t.url}/api/v1/access-log/export?format=jsonl&connection=github`, { headers: { authorization: `Bearer ${owner.key}` } });
      expect(response.headers.get("content-type")).toContain("application/x-ndjson");
      const lines = (await response.text()).trimEnd().split("\n").map((l) => JSON.parse(l) as { tool: string; at: number; time: string; connectionName: string });
      expect(lines).toHaveLength(22);
      expect(lines.every((l) => l.connectionName === "github")).toBe(true);
      expect(lines.map((l) => l.at)).toEqual([...lines.map((l) => l.at)].sort((a, b) => b - a));
      expect(lines[0]!.time).toBe(new Date(lines[0]!.at).toISOString());
      // Page by page, as a month of rows would go: the same rows in the same order.
      const paged = await new Response(exportAccessLog(t.gateway.deps.database, owner.workspaceId, { connection: "github" }, "jsonl", 5)).text();
      expect(paged.trimEnd().split("\n").map((l) => (JSON.parse(l) as { at: number }).at)).toEqual(lines.map((l) => l.at));
      // The page's link carries the same filter.
      const page = await (await fetch(`${t.url}/access-log?connection=github&tool=issue`, { headers: { cookie: ownerCookie } })).text();
      expect(page).toContain('href="/access-log/export.jsonl?connection=github&tool=issue"');
      const bad = await fetch(`${t.url}/api/v1/access-log/export?format=xlsx`, { headers: { authorization: `Bearer ${owner.key}` } });
      expect(bad.status).toBe(422);
    });

    test("usage: calls, error rate and nearest-rank p50/p95 per window, per tool and per connection; a member's strip counts only their calls", async () => {
      const { database } = t.gateway.deps;
      const summary = await summarizeUsage(database, owner.workspaceId, { connection: "github", now });
      expect(summary.hour).toEqual({ calls: 20, errors: 5, p50: 10, p95: 19 });
      expect(summary.day).toEqual(summary.hour);
      expect(summary.week).toEqual({ calls: 21, errors: 5, p50: 11, p95: 20 });

      const byTool = await usageByTool(database, owner.workspaceId, "github", "week", now);
      expect(byTool.map((r) => [r.tool, r.calls, r.p95])).toEqual([["search_issues", 20, 19], ["create_issue", 1, 500]]);
      const byConnection = await usageByConnection(database, owner.workspaceId, "day", now);
      expect(byConnection.get("github")?.calls).toBe(20);
      expect(byConnection.get("linear-prod")).toEqual({ calls: 1, errors: 1, p50: 7, p95: 7 });

      const series = await usageSeries(database, owner.workspaceId, { connection: "github" }, "hour", now);
      expect(series).toHaveLength(12);
      expect(series.reduce((n, b) => n + b.calls, 0)).toBe(20);
      expect(series.reduce((n, b) => n + b.errors, 0)).toBe(5);

      const memberCookie = await signIn(t, "member@example.com", "member password 1");
      const strip = (await (await fetch(`${t.url}/access-log`, { headers: { cookie: memberCookie } })).text()).match(/<section class="card usage-strip"[\s\S]*?<\/section>/)?.[0] ?? "";
      expect(strip).toMatch(/data-window="hour"[\s\S]*?usage-calls" *>1</);
      const ownerStrip = (await (await fetch(`${t.url}/access-log`, { headers: { cookie: ownerCookie } })).text()).match(/<section class="card usage-strip"[\s\S]*?<\/section>/)?.[0] ?? "";
      expect(ownerStrip).toMatch(/data-window="hour"[\s\S]*?usage-calls" *>21</);
      expect(ownerStrip).toContain("<svg");
    });
  });
}
