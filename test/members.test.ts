import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { dialects, OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { addMember, insertMember } from "./helpers/members.ts";
import { mcpPingStatus } from "./helpers/client.ts";
import { INVITE_TTL_MS } from "../src/accounts/invites.ts";
import { hashToken } from "../src/crypto/tokens.ts";

const ROOT = join(import.meta.dir, "..");
const PASSWORD = "a long enough password";

for (const dialect of dialects) {
  describe(`members on ${dialect}`, () => {
    let t: TestGateway;
    let owner: Awaited<ReturnType<typeof seedOwner>>;
    let ownerCookie: string;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      owner = await seedOwner(t);
      ownerCookie = await signIn(t);
    });
    afterAll(async () => {
      await t.stop();
    });

    const origin = (): string => new URL(t.config.baseUrl).origin;
    const post = (path: string, form: Record<string, string>, cookie?: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${t.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: origin(), ...(cookie ? { cookie } : {}), ...headers },
        body: new URLSearchParams(form),
      });
    const get = (path: string, cookie?: string): Promise<Response> => fetch(`${t.url}${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
    const roleOf = async (userId: string): Promise<string | null> => {
      const { database } = t.gateway.deps;
      const [row] = await database.db.select({ role: database.t.memberships.role }).from(database.t.memberships).where(eq(database.t.memberships.userId, userId));
      return row?.role ?? null;
    };

    /** Invites through the page as an admin and returns the link the page showed once. */
    const invite = async (email: string, role = "member", cookie = ownerCookie): Promise<string> => {
      const response = await post("/members/invites", { email, role }, cookie);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const html = await response.text();
      const link = html.match(/id="invite-link"[^>]*>([^<]+)</)?.[1];
      if (!link) throw new Error(`no link in ${html.slice(0, 300)}`);
      return link.replaceAll("&amp;", "&");
    };
    const pathOf = (link: string): string => {
      const url = new URL(link);
      return url.pathname + url.search;
    };

    test("an invitation link works once: it shows who was invited, sets the password, signs in with the invited role, then refuses", async () => {
      const link = await invite("new.person@example.com", "admin");
      const token = new URL(link).searchParams.get("token")!;
      expect(new URL(link).pathname).toBe("/invite");
      // Stored as a hash only, and listed as pending.
      const { database } = t.gateway.deps;
      const rows = await database.db.select().from(database.t.invites).where(eq(database.t.invites.email, "new.person@example.com"));
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(token);
      expect(rows[0]!.tokenHash).toBe(hashToken(token));
      expect(await (await get("/members", ownerCookie)).text()).toContain("new.person@example.com");

      const page = await get(pathOf(link));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("new.person@example.com");

      const short = await post("/invite", { token, password: "short" });
      expect(short.status).toBe(422);
      expect(await short.text()).toContain("at least 10 characters");

      const joined = await post("/invite", { token, name: "New Person", password: PASSWORD });
      expect(joined.status).toBe(303);
      const cookie = joined.headers.get("set-cookie")!.split(";")[0]!;
      expect((await get("/members", cookie)).status).toBe(200); // an admin, as invited
      expect(await signIn(t, "new.person@example.com", PASSWORD)).toContain("=");

      const again = await post("/invite", { token, password: "another long password" });
      expect(again.status).toBe(410);
      expect(await again.text()).toContain("already used");
      expect((await get(pathOf(link))).status).toBe(410);
      // The path every request logs never holds the token.
      expect(t.logs.join("\n")).not.toContain(token);
    });

    test("an invitation expires after 7 days, and a revoked one stops working at once", async () => {
      const expiring = new URL(await invite("late@example.com")).searchParams.get("token")!;
      const revoked = new URL(await invite("revoked@example.com")).searchParams.get("token")!;
      const { database } = t.gateway.deps;
      const [row] = await database.db.select({ id: database.t.invites.id }).from(database.t.invites).where(eq(database.t.invites.email, "revoked@example.com"));
      expect((await post(`/members/invites/${row!.id}/revoke`, {}, ownerCookie)).status).toBe(303);
      const refused = await post("/invite", { token: revoked, password: PASSWORD });
      expect(refused.status).toBe(410);
      expect(await refused.text()).toContain("revoked");

      t.clock.advance(INVITE_TTL_MS + 1000);
      try {
        const late = await post("/invite", { token: expiring, password: PASSWORD });
        expect(late.status).toBe(410);
        expect(await late.text()).toContain("expired");
      } finally {
        t.clock.advance(-(INVITE_TTL_MS + 1000));
      }
      expect(await signIn(t, "late@example.com", PASSWORD).catch(() => "refused")).toBe("refused");
    });

    test("a deactivated member's key is refused on the very next request, on the MCP endpoint and the JSON API, and their session ends", async () => {
      const member = await addMember(t, owner.workspaceId, "leaver@example.com", { password: PASSWORD });
      const memberCookie = await signIn(t, "leaver@example.com", PASSWORD);
      expect(await mcpPingStatus(t.url, member.key)).toBe(200);
      expect((await member.call("GET", "/api/v1/access-log")).status).toBe(200);

      // Without confirmation (no JavaScript): a page asks, and nothing changes yet.
      const asked = await post(`/members/${member.userId}/deactivate`, {}, ownerCookie);
      expect(asked.status).toBe(200);
      expect(await asked.text()).toContain('name="confirmed" value="yes"');
      expect(await mcpPingStatus(t.url, member.key)).toBe(200);

      const done = await post(`/members/${member.userId}/deactivate`, { confirmed: "yes" }, ownerCookie);
      expect(done.status).toBe(303);
      expect(done.headers.get("location")).toBe("/members?done=deactivated");
      expect(await mcpPingStatus(t.url, member.key)).toBe(401);
      expect((await member.call("GET", "/api/v1/access-log")).status).toBe(401);
      expect((await get("/account", memberCookie)).headers.get("location")).toBe("/sign-in");
      expect(await (await get("/members?done=deactivated", ownerCookie)).text()).toContain("Their sessions, API keys and OAuth grants have ended.");

      // Reactivated: they sign in again, the old key stays revoked.
      expect((await post(`/members/${member.userId}/reactivate`, { confirmed: "yes" }, ownerCookie)).status).toBe(303);
      expect(await signIn(t, "leaver@example.com", PASSWORD)).toContain("=");
      expect(await mcpPingStatus(t.url, member.key)).toBe(401);
    });

    test("a removed member loses access at once and leaves the list; an invitation brings them back", async () => {
      const member = await addMember(t, owner.workspaceId, "gone@example.com", { password: PASSWORD });
      const htmx = await post(`/members/${member.userId}/remove`, { confirmed: "yes" }, ownerCookie, { "hx-request": "true" });
      expect(htmx.status).toBe(200);
      const panel = await htmx.text();
      expect(panel).toContain("Removed from the workspace");
      expect(panel).not.toContain("gone@example.com");
      expect(await mcpPingStatus(t.url, member.key)).toBe(401);
      expect(await signIn(t, "gone@example.com", PASSWORD).catch(() => "refused")).toBe("refused");

      const token = new URL(await invite("gone@example.com")).searchParams.get("token")!;
      expect((await post("/invite", { token, password: "a brand new password" })).status).toBe(303);
      expect(await roleOf(member.userId)).toBe("member");
      expect(await signIn(t, "gone@example.com", "a brand new password")).toContain("=");
      // Each step is in the audit trail, with the admin who took it.
      const { t: tables } = t.gateway.deps.database;
      const entries = await t.gateway.deps.database.db.select().from(tables.auditEvents).where(eq(tables.auditEvents.target, `user:${member.userId}`));
      const actions = entries.map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(["member.deactivated", "member.removed", "member.joined"]));
      expect(entries.find((e) => e.action === "member.removed")?.actor).toBe(`user:${owner.userId}`);
      const invited = await t.gateway.deps.database.db.select().from(tables.auditEvents).where(eq(tables.auditEvents.action, "member.invited"));
      expect(invited.some((e) => e.details.includes("gone@example.com"))).toBe(true);
    });

    test("a role change applies to the member's next request: promoted, their key reads the whole workspace's log", async () => {
      const member = await addMember(t, owner.workspaceId, "climber@example.com");
      t.gateway.deps.accessLog.record({ at: Date.now(), workspaceId: owner.workspaceId, userId: owner.userId, apiKeyId: null, connectionName: "c", tool: "owner_only", outcome: "ok", latencyMs: 1, errorSummary: null });
      await t.gateway.deps.accessLog.flush();
      const seesOwnerRow = async (): Promise<boolean> => JSON.stringify((await member.call("GET", "/api/v1/access-log?tool=owner_only")).json).includes("owner_only");
      expect(await seesOwnerRow()).toBe(false);
      expect((await post(`/members/${member.userId}/role`, { role: "admin", confirmed: "yes" }, ownerCookie)).status).toBe(303);
      expect(await roleOf(member.userId)).toBe("admin");
      expect(await seesOwnerRow()).toBe(true);
      expect((await post(`/members/${member.userId}/role`, { role: "owner", confirmed: "yes" }, ownerCookie)).status).toBe(422);
      expect(await roleOf(member.userId)).toBe("admin");
    });

    test("an admin cannot demote, deactivate or remove the owner, nor themselves; a member cannot manage anyone", async () => {
      const adminId = await insertMember(t, owner.workspaceId, "admin2@example.com", { password: PASSWORD });
      const { database } = t.gateway.deps;
      await database.db.update(database.t.memberships).set({ role: "admin" }).where(eq(database.t.memberships.userId, adminId));
      const adminCookie = await signIn(t, "admin2@example.com", PASSWORD);
      for (const [action, form] of [["role", { role: "member" }], ["deactivate", {}], ["remove", {}]] as const) {
        const refused = await post(`/members/${owner.userId}/${action}`, { ...form, confirmed: "yes" }, adminCookie);
        expect(refused.status).toBe(422);
        expect(await refused.text()).toMatch(/owner/i);
        const self = await post(`/members/${adminId}/${action}`, { ...form, confirmed: "yes" }, adminCookie);
        expect(self.status).toBe(422);
      }
      expect(await roleOf(owner.userId)).toBe("owner");
      expect(await signIn(t)).toContain("=");
      expect(await roleOf(adminId)).toBe("admin");

      const plain = await addMember(t, owner.workspaceId, "plain@example.com", { password: PASSWORD });
      const plainCookie = await signIn(t, "plain@example.com", PASSWORD);
      expect((await post(`/members/${adminId}/deactivate`, { confirmed: "yes" }, plainCookie)).status).toBe(403);
      expect((await post("/members/invites", { email: "x@example.com", role: "admin" }, plainCookie)).status).toBe(403);
      expect(await mcpPingStatus(t.url, plain.key)).toBe(200);
    });

    test("a member changes their password with the current one; their other sessions end", async () => {
      await insertMember(t, owner.workspaceId, "changer@example.com", { password: PASSWORD });
      const here = await signIn(t, "changer@example.com", PASSWORD);
      const elsewhere = await signIn(t, "changer@example.com", PASSWORD);
      const wrong = await post("/account/password", { current: "not my password", password: "a new long password", confirm: "a new long password" }, here);
      expect(wrong.status).toBe(422);
      expect(await wrong.text()).toContain("not your current password");
      const mismatch = await post("/account/password", { current: PASSWORD, password: "a new long password", confirm: "a new long passwort" }, here);
      expect(mismatch.status).toBe(422);
      const changed = await post("/account/password", { current: PASSWORD, password: "a new long password", confirm: "a new long password" }, here);
      expect(changed.status).toBe(303);
      expect((await get("/account", here)).status).toBe(200);
      expect((await get("/account", elsewhere)).headers.get("location")).toBe("/sign-in");
      expect(await signIn(t, "changer@example.com", PASSWORD).catch(() => "refused")).toBe("refused");
      expect(await signIn(t, "changer@example.com", "a new long password")).toContain("=");
    });

    test("`users reset-password` prints a one-time link: the owner sets a new password with it once, every old session ends", async () => {
      const before = await signIn(t);
      const databaseUrl = t.config.database.kind === "postgres" ? t.config.database.url : undefined;
      const child = Bun.spawn([process.execPath, "src/main.ts", "users", "reset-password", "--email", OWNER.email], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DATA_DIR: t.dataDir, BASE_URL: t.config.baseUrl, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      expect(code).toBe(0);
      expect(stderr).toContain("within 30 minutes");
      const link = stdout.trim();
      expect(link.startsWith(`${t.config.baseUrl}/reset-password?token=`)).toBe(true);
      const token = new URL(link).searchParams.get("token")!;

      expect(await (await get(pathOf(link))).text()).toContain(OWNER.email);
      const newPassword = "the owner's new password";
      expect((await post("/reset-password", { token, password: newPassword, confirm: newPassword })).status).toBe(303);
      expect((await get("/account", before)).headers.get("location")).toBe("/sign-in");
      expect(await signIn(t, OWNER.email, newPassword)).toContain("=");
      expect((await post("/reset-password", { token, password: "yet another password", confirm: "yet another password" })).status).toBe(410);
      ownerCookie = await signIn(t, OWNER.email, newPassword);

      const unknown = Bun.spawnSync([process.execPath, "src/main.ts", "users", "reset-password", "--email", "nobody@example.com"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DATA_DIR: t.dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
      });
      expect(unknown.exitCode).toBe(1);
      expect(unknown.stdout.toString()).toBe("");
    });
  });
}
