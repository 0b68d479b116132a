import type { SQLQueryBindings } from "bun:sqlite";
import { is, Param, Placeholder, type SQLWrapper } from "drizzle-orm";
import type { Database } from "./client.ts";
import { preparePositional, type PositionalStatement } from "./gated-session.ts";

/** Where a parameter's value comes from: a named field of the row (mapped by its column), or a constant. */
type Slot = { name: string; toDriver: (value: unknown) => unknown } | { constant: unknown };

/**
 * SQLite only: the statement drizzle would run for `query` (its own SQL text, so columns and
 * quoting follow the schema), prepared once on the connection and bound by position from a row
 * object. Drizzle's prepared statement builds an object of every placeholder per row and checks each
 * parameter's class (`fillPlaceholders`): on the access log's write, a large share of the
 * JavaScript per row (bench/README.md, issue 15). Values pass through their column's
 * `mapToDriverValue`, as in drizzle's `fillPlaceholders`.
 */
export class RowStatement {
  private constructor(
    private readonly statement: PositionalStatement,
    private readonly slots: Slot[],
  ) {}

  static prepare(database: Database, query: SQLWrapper & { toSQL(): { sql: string; params: unknown[] } }): RowStatement {
    const { sql, params } = query.toSQL();
    const statement = database.dialect === "sqlite" ? preparePositional(database.db, sql) : null;
    if (!statement) throw new Error("RowStatement is for the SQLite connection only");
    return new RowStatement(statement, params.map(slotOf));
  }

  /**
   * Runs it with `row`'s fields; a field the row lacks (undefined or null) takes `defaults`' value,
   * else null. Returns the rows changed (0: ON CONFLICT DO NOTHING kept an existing row).
   */
  run(row: object, defaults?: Record<string, unknown>): number | Promise<number> {
    return this.statement.run(this.bind(row, defaults));
  }

  /** The first row of a select (column names as the SQL gives them), or null. */
  get(row: object = {}): unknown {
    return this.statement.get(this.bind(row));
  }

  private bind(row: object, defaults?: Record<string, unknown>): SQLQueryBindings[] {
    const fields = row as Record<string, unknown>;
    const values = new Array<SQLQueryBindings>(this.slots.length);
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      if ("constant" in slot) values[i] = slot.constant as SQLQueryBindings;
      else values[i] = slot.toDriver(fields[slot.name] ?? defaults?.[slot.name] ?? null) as SQLQueryBindings;
    }
    return values;
  }
}

function slotOf(param: unknown): Slot {
  if (is(param, Placeholder)) return { name: param.name, toDriver: (value) => value };
  if (is(param, Param) && is(param.value, Placeholder)) {
    const { encoder } = param;
    return { name: param.value.name, toDriver: (value) => encoder.mapToDriverValue(value) };
  }
  return { constant: param };
}
