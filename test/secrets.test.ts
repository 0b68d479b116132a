import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { decryptSecret, DecryptionError } from "../src/crypto/encryption.ts";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { api, connectClient } from "./helpers/client.ts";

const CANARY = "canary-7d1e0c5b9a4f4e2bb1c3";
const HEADER_CANARY = "hdr-canary-55aa77cc99ee";

for (const dialect of dialects) {
  describe(`stored credentials never leak (${dialect})`, () => {
    let t: TestGateway;
    let key: string;
    let bearer: Upstream;
    let header: Upstream;
    const responses: string[] = [];

    beforeAll(async () => {
      [t, bearer, header] = await Promise.all([
        startTestGateway({ dialect }),
        startUpstream({ auth: { kind: "bearer", token: CANARY } }),
        startUpstream({ auth: { kind: "header", header: "X-Api-Key", value: HEADER_CANARY }, tools: ["echo"] }),
      ]);
      key = (await seedOwner(t)).key;
    });
    afterAll(async () => {
      await Promise.all([t.stop(), bearer.stop(), header.stop()]);
    });

    test("the canary works upstream, but appears in no response, log line, database file or log entry", async () => {
      const call = api(t.url, key);
      const record = async (method: string, path: string, body?: unknown) => {
        const r = await call(method, path, body);
        responses.push(JSON.stringify(r.json));
        return r;
      };
      const added = await record("POST", "/api/v1/connections", { name: "vault", url: bearer.url, auth: { kind: "bearer", token: CANARY } });
      expect(added.status).toBe(201);
      const id = ((added.json.connection as { id: string }).id);
      await record("POST", "/api/v1/connections", { name: "hdr", url: header.url, auth: { kind: "header", header: "X-Api-Key", value: HEADER_CANARY } });
      // A wrong token, a failing tool, a hanging tool and a sync: every path that produces error text.
      await record("POST", "/api/v1/connections", { name: "bad", url: bearer.url, auth: { kind: "bearer", token: `${CANARY}-wrong` } });
      const client = await connectClient(t.url, key, "2025-11-25");
      try {
        for (const name of ["vault__echo", "vault__fail", "vault__throw", "hdr__echo"]) {
          const result = await client.callTool({ name, arguments: { message: "m" } }).catch((e: Error) => ({ error: e.message }));
          responses.push(JSON.stringify(result));
        }
        responses.push(JSON.stringify(await client.listTools()));
        responses.push(JSON.stringify(await client.callTool({ name: "gateway__list_connections", arguments: {} })));
      } finally {
        await client.close();
      }
      await record("POST", `/api/v1/connections/${id}/sync`);
      await record("GET", "/api/v1/connections");
      await record("GET", `/api/v1/connections/${id}`);
      // Upstream goes away: the failure text must not carry the credential either.
      await bearer.stop();
      const after = await connectClient(t.url, key);
      try {
        responses.push(JSON.stringify(await after.callTool({ name: "vault__echo", arguments: { message: "m" } })));
      } finally {
        await after.close();
      }
      await t.gateway.deps.accessLog.flush();
      await record("GET", "/api/v1/access-log?limit=200");
      const cookie = await signIn(t);
      for (const path of ["/", "/keys", `/connections/${id}`, "/access-log"]) {
        responses.push(await (await fetch(`${t.url}${path}`, { headers: { cookie } })).text());
      }

      // The upstream did receive it, and never the gateway key.
      expect(bearer.requests.some((r) => r.authorization === `Bearer ${CANARY}`)).toBe(true);
      expect(header.requests.some((r) => r.headers["x-api-key"] === HEADER_CANARY)).toBe(true);
      expect([...bearer.requests, ...header.requests].some((r) => JSON.stringify(r.headers).includes(key))).toBe(false);

      for (const canary of [CANARY, HEADER_CANARY]) {
        expect(responses.filter((r) => r.includes(canary))).toEqual([]);
        expect(t.logs.filter((l) => l.includes(canary))).toEqual([]);
        const { database } = t.gateway.deps;
        const rows = JSON.stringify([
          await database.db.select().from(database.t.accessLog),
          await database.db.select().from(database.t.connections),
          await database.db.select().from(database.t.statusEvents),
          await database.db.select().from(database.t.credentials),
        ]);
        expect(rows.includes(canary)).toBe(false);
        if (dialect === "sqlite") {
          for (const file of readdirSync(t.dataDir).filter((f) => f.startsWith("gateway.db"))) {
            expect(readFileSync(join(t.dataDir, file)).includes(Buffer.from(canary))).toBe(false);
          }
        }
      }
    });

    test("a ciphertext moved to another connection's row fails to decrypt", async () => {
      const { database, keyring } = t.gateway.deps;
      const rows = await database.db.select().from(database.t.credentials);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
      const own = await decryptSecret(keyring, a.ciphertext, { table: "credentials", column: "ciphertext", rowId: a.connectionId, workspaceId: a.workspaceId });
      expect(own).toContain("kind");
      await expect(
        decryptSecret(keyring, a.ciphertext, { table: "credentials", column: "ciphertext", rowId: b.connectionId, workspaceId: b.workspaceId }),
      ).rejects.toBeInstanceOf(DecryptionError);
      // Through the product: swap the ciphertexts, and the calls fail closed with words, not secrets.
      await database.db.update(database.t.credentials).set({ ciphertext: a.ciphertext }).where(eq(database.t.credentials.connectionId, b.connectionId));
      t.gateway.deps.pool.drop(b.connectionId);
      const names = Object.fromEntries(((await api(t.url, key)("GET", "/api/v1/connections")).json.connections as { id: string; name: string }[]).map((c) => [c.id, c.name]));
      const client = await connectClient(t.url, key);
      try {
        const result = await client.callTool({ name: `${names[b.connectionId]}__echo`, arguments: { message: "m" } });
        expect(result.isError).toBe(true);
        expect(JSON.stringify(result)).toContain("could not be decrypted");
        expect(JSON.stringify(result)).not.toContain(CANARY);
        expect(JSON.stringify(result)).not.toContain(HEADER_CANARY);
      } finally {
        await client.close();
      }
    });
  });
}
