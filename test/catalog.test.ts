import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient } from "./helpers/client.ts";
import { toolKey } from "../src/connections/pages.tsx";
import { startKeyInPathUpstream, type KeyedUpstream } from "./helpers/keyed-upstream.ts";

const KEY = "fc-url-key-canary-5e2d";

for (const dialect of dialects) {
  describe(`the catalog on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let cookie: string;
    let keyed: KeyedUpstream;
    let dataDir: string;

    beforeAll(async () => {
      keyed = startKeyInPathUpstream(KEY);
      dataDir = mkdtempSync(join(tmpdir(), "mgw-catalog-"));
      writeFileSync(
        join(dataDir, "catalog.json"),
        JSON.stringify({
          entries: [
            {
              id: "keyed",
              name: "Keyed search",
              description: "A server that takes its key in the URL, like Firecrawl.",
              url: keyed.template,
              docs: "https://example.com/docs",
              signIn: [{ kind: "url", label: "API key" }],
            },
            { id: "Bad Id", name: "", description: "x", url: "ftp://nope", docs: "https://example.com", signIn: [] },
            { id: "nokey", name: "No key", description: "x", url: "https://example.com/mcp", docs: "https://example.com", signIn: [{ kind: "url", label: "Key" }] },
          ],
        }),
      );
      t = await startTestGateway({ dialect, env: { DATA_DIR: dataDir } });
      key = (await seedOwner(t)).key;
      cookie = await signIn(t);
    });
    afterAll(async () => {
      await Promise.all([t.stop(), keyed.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    });

    test("lists Cloudflare, Firecrawl, GitHub, Linear and Notion with their URLs and sign-ins, plus the operator's entry", async () => {
      const { json } = await api(t.url, key)("GET", "/api/v1/catalog");
      const entries = json.entries as { id: string; url: string; docs: string; signIn: { kind: string; url?: string }[] }[];
      const byId = new Map(entries.map((e) => [e.id, e]));
      expect(byId.get("cloudflare")).toMatchObject({ url: "https://mcp.cloudflare.com/mcp", signIn: [{ kind: "oauth" }, { kind: "bearer" }] });
      expect(byId.get("cloudflare-docs")).toMatchObject({ url: "https://docs.mcp.cloudflare.com/mcp", signIn: [{ kind: "none" }] });
      expect(byId.get("firecrawl")).toMatchObject({ url: "https://mcp.firecrawl.dev/{key}/v2/mcp", signIn: [{ kind: "url" }, { kind: "oauth", url: "https://mcp.firecrawl.dev/v2/mcp" }] });
      expect(byId.get("github")).toMatchObject({ url: "https://api.githubcopilot.com/mcp/", signIn: [{ kind: "bearer" }, { kind: "oauth", clientRequired: true }] });
      expect(byId.get("linear")).toMatchObject({ url: "https://mcp.linear.app/mcp", signIn: [{ kind: "oauth" }, { kind: "bearer" }] });
      expect(byId.get("notion")).toMatchObject({ url: "https://mcp.notion.com/mcp", signIn: [{ kind: "oauth" }] });
      for (const entry of entries) expect(entry.docs).toMatch(/^https:\/\//);
      expect(byId.get("keyed")?.url).toBe(keyed.template);
    });

    test("bad entries in DATA_DIR/catalog.json are skipped and reported, each with what is wrong", () => {
      const warnings = t.logs.filter((line) => line.includes("catalog entry"));
      expect(warnings.join("\n")).toContain('catalog entry \\"Bad Id\\" skipped');
      expect(warnings.join("\n")).toContain("must be 1–32 lowercase letters");
      expect(warnings.join("\n")).toContain("must be an http(s) URL");
      expect(warnings.join("\n")).toContain('catalog entry \\"nokey\\" skipped');
      expect(warnings.join("\n")).toContain("needs {key} in its URL");
    });

    test("picking an entry pre-fills the name and shows its sign-in; a key that goes in the URL is sealed, never in the stored URL", async () => {
      const page = await fetch(`${t.url}/catalog`, { headers: { cookie } });
      expect(page.status).toBe(200);
      const html = await page.text();
      for (const name of ["Cloudflare API", "Firecrawl", "GitHub", "Linear", "Notion", "Keyed search"]) expect(html).toContain(name);
      const form = await (await fetch(`${t.url}/catalog/keyed`, { headers: { cookie } })).text();
      expect(form).toContain('value="keyed"');
      expect(form).toContain("API key (in the URL)");
      const added = await fetch(`${t.url}/catalog/keyed`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: t.url, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ name: "keyed", signIn: "0", "key-0": KEY }),
      });
      expect(added.status).toBe(303);
      const pickPath = added.headers.get("location")!;
      expect(pickPath).toMatch(/^\/connections\/[^/]+\/expose$/);
      // Nothing is exposed before the pick is saved (issue 11): save it, as the admin would.
      const picked = await fetch(`${t.url}${pickPath}`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: t.url, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ tool: toolKey("echo") }),
      });
      expect(picked.status).toBe(303);
      expect(keyed.seen).toContain(`/${KEY}/v2/mcp`);
      const listing = await api(t.url, key)("GET", "/api/v1/connections");
      const connection = (listing.json.connections as { name: string; url: string; auth: { kind: string } }[]).find((c) => c.name === "keyed")!;
      expect(connection.url).toBe(keyed.template.replace("{key}", "%7Bkey%7D"));
      expect(connection.auth).toEqual({ kind: "url" });
      expect(JSON.stringify(listing.json)).not.toContain(KEY);
      const client = await connectClient(t.url, key);
      try {
        const echoed = await client.callTool({ name: "keyed__echo", arguments: { message: "via a keyed URL" } });
        expect((echoed.content as { text: string }[])[0]?.text).toBe("via a keyed URL");
      } finally {
        await client.close();
      }
      expect(t.logs.join("\n")).not.toContain(KEY);
      const wrong = await api(t.url, key)("POST", "/api/v1/connections", { name: "nokey", url: keyed.template, auth: { kind: "none" } });
      expect(wrong.status).toBe(422);
      expect((wrong.json.fields as Record<string, string>).url).toContain("{key}");
    });
  });
}
