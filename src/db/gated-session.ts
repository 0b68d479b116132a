import type { Database as SQLite, SQLQueryBindings, Statement } from "bun:sqlite";
import { createTableRelationsHelpers, extractTablesRelationalConfig, NoopLogger, type Query, type RelationalSchemaConfig, type TablesRelationalConfig } from "drizzle-orm";
import { BunSQLiteDatabase, PreparedQuery, SQLiteBunSession } from "drizzle-orm/bun-sqlite";
import { SQLiteSyncDialect, type PreparedQueryConfig, type SelectedFieldsOrdered, type SQLiteExecuteMethod } from "drizzle-orm/sqlite-core";
import type { StatementGate } from "./statement-gate.ts";

/**
 * Drizzle's bun-sqlite driver with every statement passing the gate. Builders run their statement
 * inside `then()` (`async execute() { return this.all() }`), prepared ones through `execute()`:
 * both end in `run`/`all`/`get`/`values` below. While another context's transaction is open these
 * return a promise that runs the statement after it ends — `await` takes it like the rows; with
 * none open they run at once, as before.
 */
class GatedStatement extends PreparedQuery {
  constructor(
    private readonly gate: StatementGate,
    ...rest: ConstructorParameters<typeof PreparedQuery>
  ) {
    super(...rest);
  }

  override run(values?: Record<string, unknown>): ReturnType<PreparedQuery["run"]> {
    return this.gate.blocks() ? (this.gate.after(() => this.run(values)) as never) : super.run(values);
  }

  override all(values?: Record<string, unknown>): unknown {
    return this.gate.blocks() ? this.gate.after(() => this.all(values)) : super.all(values);
  }

  override get(values?: Record<string, unknown>): unknown {
    return this.gate.blocks() ? this.gate.after(() => this.get(values)) : super.get(values);
  }

  override values(values?: Record<string, unknown>): unknown {
    return this.gate.blocks() ? this.gate.after(() => this.values(values)) : super.values(values);
  }
}

/**
 * A statement on the connection itself, bound by position (an array per row), for the few writes
 * that run per call in bulk (db/row-statement.ts): drizzle's prepared statement fills its
 * placeholders by name through an object per row. It passes the gate as drizzle's statements do.
 */
export class PositionalStatement {
  constructor(
    private readonly gate: StatementGate,
    private readonly statement: Statement,
  ) {}

  /** Rows changed: 0 when ON CONFLICT DO NOTHING left an existing row as it was. */
  run(values: SQLQueryBindings[]): number | Promise<number> {
    return this.gate.blocks() ? this.gate.after(() => this.statement.run(values).changes) : this.statement.run(values).changes;
  }

  /** The first row, or null. */
  get(values: SQLQueryBindings[]): unknown {
    return this.gate.blocks() ? this.gate.after(() => this.statement.get(values)) : this.statement.get(values);
  }
}

class GatedSession<TFull extends Record<string, unknown>, TSchema extends TablesRelationalConfig> extends SQLiteBunSession<TFull, TSchema> {
  private readonly logs = new NoopLogger();

  constructor(
    private readonly connection: SQLite,
    private readonly gate: StatementGate,
    dialect: SQLiteSyncDialect,
    schema: RelationalSchemaConfig<TSchema>,
  ) {
    super(connection, dialect, schema);
  }

  override prepareQuery<T extends Omit<PreparedQueryConfig, "run">>(
    query: Query,
    fields: SelectedFieldsOrdered | undefined,
    executeMethod: SQLiteExecuteMethod,
    isResponseInArrayMode: boolean,
    customResultMapper?: (rows: unknown[][]) => unknown,
  ): PreparedQuery<T> {
    const statement = new GatedStatement(this.gate, this.connection.prepare(query.sql), query, this.logs, fields, executeMethod, isResponseInArrayMode, customResultMapper);
    return statement as unknown as PreparedQuery<T>;
  }

  preparePositional(sql: string): PositionalStatement {
    return new PositionalStatement(this.gate, this.connection.prepare(sql));
  }

  // Drizzle's own SQLite transaction is synchronous: an async body would commit before it ran.
  override transaction(): never {
    throw new Error("Use Database.transaction(): drizzle's SQLite transaction cannot span an await.");
  }
}

const sessions = new WeakMap<object, GatedSession<Record<string, unknown>, TablesRelationalConfig>>();

/** Prepares `sql` (with `?` parameters) on a database drizzleGated made; null for any other database. */
export function preparePositional(db: object, sql: string): PositionalStatement | null {
  return sessions.get(db)?.preparePositional(sql) ?? null;
}

/** A drizzle database on `client` whose every statement passes `gate`. */
export function drizzleGated<TSchema extends Record<string, unknown>>(client: SQLite, gate: StatementGate, fullSchema: TSchema): BunSQLiteDatabase<TSchema> {
  const dialect = new SQLiteSyncDialect();
  const relations = extractTablesRelationalConfig(fullSchema, createTableRelationsHelpers);
  const schema = { fullSchema, schema: relations.tables, tableNamesMap: relations.tableNamesMap };
  const session = new GatedSession(client, gate, dialect, schema);
  const db = new BunSQLiteDatabase("sync", dialect, session as never, schema as never) as BunSQLiteDatabase<TSchema>;
  sessions.set(db, session as never);
  return Object.assign(db, { $client: client });
}
