import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sweepExpired } from "../src/db/sweep.ts";
import { createSession } from "../src/accounts/sessions.ts";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";

for (const dialect of dialects) {
  describe(`expired rows on ${dialect}`, () => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await startTestGateway({ dialect });
    });
    afterAll(() => t.stop());

    test("sessions long expired are deleted; live ones and recently expired ones stay", async () => {
      const { userId, workspaceId } = await seedOwner(t);
      const { database } = t.gateway.deps;
      const now = Date.now();
      const day = 24 * 3_600_000;
      await createSession(database, userId, workspaceId, now - 40 * day); // expired 10 days ago
      await createSession(database, userId, workspaceId, now - 30 * day + 3_600_000); // expires within the hour
      await createSession(database, userId, workspaceId, now);
      expect(await database.db.select().from(database.t.sessions)).toHaveLength(3);
      expect(await sweepExpired(database, now)).toBe(1);
      expect(await database.db.select().from(database.t.sessions)).toHaveLength(2);
    });
  });
}
