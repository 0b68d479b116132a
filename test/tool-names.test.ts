import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient } from "./helpers/client.ts";

// Two upstream names longer than 64 characters with the same stem whose SHA-256 digests share their
// first 40 bits (found offline with Pollard's rho): the shortened names' 8-character hashes agree.
const PAD = "x".repeat(70);
const HASH_TWINS = [`${PAD}864nlonf`, `${PAD}avigao5g`];

for (const dialect of dialects) {
  describe(`exposed tool names on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let upstream: Upstream;
    let connectionId: string;

    /** Publishes these tools upstream, re-syncs, and turns every one on. */
    async function publish(names: string[]): Promise<void> {
      upstream.setTools(names);
      const call = api(t.url, key);
      expect((await call("POST", `/api/v1/connections/${connectionId}/sync`)).status).toBe(200);
      for (const name of names) {
        expect((await call("PATCH", `/api/v1/connections/${connectionId}/tools/${encodeURIComponent(name)}`, { enabled: true })).status).toBe(200);
      }
    }

    async function upstreamNames(client: Client): Promise<string[]> {
      return (await client.listTools()).tools.map((tool) => tool.name).filter((name) => name.startsWith("alpha__"));
    }

    /** The simple fixture tools answer "NAME ok": the text says which upstream tool really ran. */
    async function ranTool(client: Client, exposed: string): Promise<string> {
      const result = await client.callTool({ name: exposed, arguments: {} });
      const [first] = result.content as { type: string; text: string }[];
      return first!.text.replace(/ ok$/, "");
    }

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway({ dialect }), startUpstream({ tools: ["echo"] })]);
      key = (await seedOwner(t)).key;
      const created = await api(t.url, key)("POST", "/api/v1/connections", { name: "alpha", url: upstream.url });
      connectionId = (created.json.connection as { id: string }).id;
    });
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop()]);
    });

    test("an upstream tool named exactly like another's shortened name gets a name of its own, and each name runs its own tool", async () => {
      const long = `do_${"y".repeat(80)}`;
      const odd = "weird name/with:chars";
      await publish([long, odd]);
      const client = await connectClient(t.url, key);
      try {
        const shortened = await upstreamNames(client);
        expect(shortened).toHaveLength(2);
        // The hostile twins: tools whose own names are the shortened names, minus the prefix.
        const twins = shortened.map((name) => name.slice("alpha__".length));
        await publish([long, odd, ...twins]);
        const names = await upstreamNames(client);
        expect(names).toHaveLength(4);
        expect(new Set(names).size).toBe(4);
        for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
        const ran = await Promise.all(names.map((name) => ranTool(client, name)));
        expect(ran.toSorted()).toEqual([long, odd, ...twins].toSorted());
      } finally {
        await client.close();
      }
    });

    test("two tools whose shortened names share a hash still get distinct names, and each runs its own tool", async () => {
      await publish(HASH_TWINS);
      const client = await connectClient(t.url, key);
      try {
        const names = await upstreamNames(client);
        expect(names).toHaveLength(2);
        expect(new Set(names).size).toBe(2);
        for (const name of names) expect(name.length).toBeLessThanOrEqual(64);
        const ran = await Promise.all(names.map((name) => ranTool(client, name)));
        expect(ran.toSorted()).toEqual(HASH_TWINS.toSorted());
        // Deterministic: the same tools get the same names on the next sync.
        await publish(HASH_TWINS);
        expect(await upstreamNames(client)).toEqual(names);
      } finally {
        await client.close();
      }
    });

    test("a connection name cannot hold the separator or take the gateway's own prefix, so connection__tool names never meet", async () => {
      const call = api(t.url, key);
      for (const name of ["alpha__x", "a_b", "gateway"]) {
        const refused = await call("POST", "/api/v1/connections", { name, url: upstream.url });
        expect(refused.status).toBe(422);
      }
    });
  });
}
