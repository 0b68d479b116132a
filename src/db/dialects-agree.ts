import type * as pgSchema from "./schema.pg.ts";
import type { defineSchema } from "./schema.ts";
import type * as sqliteSchema from "./schema.sqlite.ts";

// Compile-time proof behind the casts in client.ts: services are typed against the SQLite tables and
// run unchanged on Postgres, which is sound only while every table reads and writes rows of the same
// types on both. This file has no run-time content; `bun run typecheck` fails when a check does.

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Sqlite = typeof sqliteSchema;
type Pg = typeof pgSchema;
type Defined = ReturnType<typeof defineSchema<"sqlite">>;

/** The tables whose selected or inserted rows differ between the dialects: none. */
type Disagreeing = {
  [K in keyof Sqlite & keyof Pg]: Equal<Sqlite[K]["$inferSelect"], Pg[K]["$inferSelect"]> extends true
    ? Equal<Sqlite[K]["$inferInsert"], Pg[K]["$inferInsert"]> extends true
      ? never
      : K
    : K;
}[keyof Sqlite & keyof Pg];

export const rowsAgree: Equal<Disagreeing, never> = true;
/** Both modules export every table the definition has (drizzle-kit migrates only what is exported). */
export const tablesAgree: Equal<keyof Sqlite, keyof Defined> & Equal<keyof Pg, keyof Defined> = true;
