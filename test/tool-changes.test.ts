import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { addConnection } from "../src/connections/add.ts";
import type { Principal } from "../src/accounts/principal.ts";

// Issue 16 item 1: the tool list's "changed" filter — tools a re-sync found new or changed, until an
// admin turns them on or off (or saves a pick).
for (const dialect of dialects) {
  describe(`the changed-tools filter on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: Upstream;
    let cookie: string;
    let id: string;

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo", "add"] })]);
      const { workspaceId, userId } = await seedOwner(t);
      cookie = await signIn(t);
      const principal = { workspaceId, userId, role: "owner", email: "owner@example.com" } as Principal;
      const added = await addConnection(t.gateway.deps, principal, { name: "fx", url: upstream.url, auth: { kind: "none" }, expose: "all" });
      if (!added.ok) throw new Error(JSON.stringify(added.errors));
      id = added.connection.id;
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop()]);
    });

    function send(path: string, method = "GET", fields: Record<string, string> = {}): Promise<Response> {
      return fetch(`${t.url}${path}`, {
        method,
        redirect: "manual",
        headers: { cookie, origin: t.url, ...(method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
        body: method === "POST" ? new URLSearchParams(fields) : undefined,
      });
    }

    async function changedNames(): Promise<string[]> {
      const html = await (await send(`/connections/${id}?show=changed`)).text();
      return [...html.matchAll(/<code class="tool-name"[^>]*>([^<]+)<\/code>/g)].map((m) => m[1]!).sort();
    }

    test("the first list marks nothing; a tool the upstream adds later is marked until an admin turns it on or off", async () => {
      expect(await changedNames()).toEqual([]);
      upstream.setTools(["echo", "add", "fail"]);
      expect((await send(`/connections/${id}/sync`, "POST")).status).toBe(200);
      expect(await changedNames()).toEqual(["fx__fail"]);
      const page = await (await send(`/connections/${id}`)).text();
      expect(page).toContain("Changed at a re-sync (1)");
      expect(page).toContain('class="badge badge-warn tool-changed"');

      expect((await send(`/connections/${id}/tools?tool=fail`, "POST", { enabled: "false" })).status).toBe(303);
      expect(await changedNames()).toEqual([]);
    });
  });
}
