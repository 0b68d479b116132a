import type { Database as SQLite } from "bun:sqlite";
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

  // Drizzle's own SQLite transaction is synchronous: an async body would commit before it ran.
  override transaction(): never {
    throw new Error("Use Database.transaction(): drizzle's SQLite transaction cannot span an await.");
  }
}

/** A drizzle database on `client` whose every statement passes `gate`. */
export function drizzleGated<TSchema extends Record<string, unknown>>(client: SQLite, gate: StatementGate, fullSchema: TSchema): BunSQLiteDatabase<TSchema> {
  const dialect = new SQLiteSyncDialect();
  const relations = extractTablesRelationalConfig(fullSchema, createTableRelationsHelpers);
  const schema = { fullSchema, schema: relations.tables, tableNamesMap: relations.tableNamesMap };
  const session = new GatedSession(client, gate, dialect, schema);
  const db = new BunSQLiteDatabase("sync", dialect, session as never, schema as never) as BunSQLiteDatabase<TSchema>;
  return Object.assign(db, { $client: client });
}
