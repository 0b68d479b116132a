import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { createApiKey, listApiKeys } from "../src/accounts/api-keys.ts";
import { encryptSecret } from "../src/crypto/encryption.ts";
import { newId } from "../src/crypto/tokens.ts";

/** A promise and the function that settles it: one request tells another where it has got to. */
function signal(): { reached: Promise<void>; reach(): void } {
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  return { reached, reach };
}

class RolledBackOnPurpose extends Error {}

for (const dialect of dialects) {
  describe(`transactions on ${dialect}`, () => {
    let t: TestGateway;
    let owner: Awaited<ReturnType<typeof seedOwner>>;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      owner = await seedOwner(t);
    });
    afterAll(async () => {
      await t.stop();
    });

    function connectionRow(name: string): typeof t.gateway.deps.database.t.connections.$inferInsert {
      const now = Date.now();
      return { id: newId(), workspaceId: owner.workspaceId, name, url: "https://mcp.example.com/mcp", authKind: "none", status: "connected", createdAt: now, updatedAt: now };
    }

    test("a key created while another request's transaction is open survives that transaction's rollback, and never sees its rows", async () => {
      const { database, keyring } = t.gateway.deps;
      const { t: tables } = database;
      const doomed = connectionRow("doomed");
      const inserted = signal();
      const secondStarted = signal();

      // Request 1: writes, then does slow async work (a real seal) and fails.
      const first = database.transaction(async (tx) => {
        await tx.insert(tables.connections).values(doomed);
        inserted.reach();
        await secondStarted.reached;
        await encryptSecret(keyring, "sealed while the transaction is open", { table: "credentials", column: "ciphertext", rowId: doomed.id, workspaceId: owner.workspaceId });
        throw new RolledBackOnPurpose();
      });

      // Request 2: outside any transaction, while request 1's is open.
      await inserted.reached;
      const created = createApiKey(database, { workspaceId: owner.workspaceId, userId: owner.userId, name: "made during a rollback" });
      const seen = database.db.select({ id: tables.connections.id }).from(tables.connections).where(eq(tables.connections.id, doomed.id)).then((rows) => rows);
      secondStarted.reach();

      await expect(first).rejects.toBeInstanceOf(RolledBackOnPurpose);
      const key = await created;
      expect(key.ok).toBe(true);
      // The key was acknowledged: it is there after request 1 rolled back.
      const keys = await listApiKeys(database, owner.workspaceId);
      expect(keys.map((k) => k.name)).toContain("made during a rollback");
      // Request 2 never read request 1's uncommitted row, and the row is gone.
      expect(await seen).toEqual([]);
      expect(await database.db.select().from(tables.connections).where(eq(tables.connections.id, doomed.id))).toEqual([]);
    });

    test("two transactions that overlap in time each keep their own outcome", async () => {
      const { database } = t.gateway.deps;
      const { t: tables } = database;
      const kept = connectionRow("kept");
      const dropped = connectionRow("dropped");
      const firstInserted = signal();
      const first = database.transaction(async (tx) => {
        await tx.insert(tables.connections).values(dropped);
        firstInserted.reach();
        // Yields, so the second transaction starts while this one is open: the overlap is the scenario.
        await Bun.sleep(1);
        throw new RolledBackOnPurpose();
      });
      await firstInserted.reached;
      const second = database.transaction(async (tx) => {
        await tx.insert(tables.connections).values(kept);
        return "committed";
      });
      await expect(first).rejects.toBeInstanceOf(RolledBackOnPurpose);
      expect(await second).toBe("committed");
      const names = (await database.db.select({ name: tables.connections.name }).from(tables.connections)).map((r) => r.name);
      expect(names).toContain("kept");
      expect(names).not.toContain("dropped");
    });

    test("a transaction's own statements may go through database.db, and a nested transaction is refused at once", async () => {
      const { database } = t.gateway.deps;
      const { t: tables } = database;
      const row = connectionRow("inside");
      const outcome = await database.transaction(async (tx) => {
        await tx.insert(tables.connections).values(row);
        // Helpers that take `database` read through `database.db`: inside the body that is the
        // transaction's own connection on SQLite, and must not wait for the transaction to end.
        const [found] = dialect === "sqlite" ? await database.db.select({ id: tables.connections.id }).from(tables.connections).where(eq(tables.connections.id, row.id)) : [{ id: row.id }];
        const nested = await database.transaction(async () => "nested").catch((error: Error) => error);
        return { found: found?.id, nested };
      });
      expect(outcome.found).toBe(row.id);
      if (dialect === "sqlite") {
        expect(outcome.nested).toBeInstanceOf(Error);
        expect((outcome.nested as Error).message).toContain("inside another");
      }
      expect(await database.db.select({ id: tables.connections.id }).from(tables.connections).where(eq(tables.connections.id, row.id))).toEqual([{ id: row.id }]);
    });
  });
}
