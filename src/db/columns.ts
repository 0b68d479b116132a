import type { BuildColumns, Column, ColumnBuilderBase, HasDefault, IsPrimaryKey, NotNull, Writable } from "drizzle-orm";
import type {
  ExtraConfigColumn,
  PgColumnBuilderBase,
  PgBigInt53BuilderInitial,
  PgBooleanBuilderInitial,
  PgJsonbBuilderInitial,
  PgTableExtraConfigValue,
  PgTableWithColumns,
  PgTextBuilderInitial,
} from "drizzle-orm/pg-core";
import type {
  SQLiteBooleanBuilderInitial,
  SQLiteColumn,
  SQLiteColumnBuilderBase,
  SQLiteIntegerBuilderInitial,
  SQLiteTableExtraConfigValue,
  SQLiteTableWithColumns,
  SQLiteTextBuilderInitial,
  SQLiteTextJsonBuilderInitial,
} from "drizzle-orm/sqlite-core";

// The vocabulary schema.ts is written in, once for both dialects. Each dialect supplies its column
// functions (builders.sqlite.ts, builders.pg.ts); the types below say, per dialect, which Drizzle
// builder each one returns, so a table comes out exactly as sqliteTable()/pgTable() would type it.

export type Dialect = "sqlite" | "pg";

// Drizzle's SQLite text() types a column given no length as `number | undefined` long.
type TextOf<D extends Dialect, N extends string, E extends [string, ...string[]]> = D extends "sqlite"
  ? SQLiteTextBuilderInitial<N, E, number | undefined>
  : PgTextBuilderInitial<N, E>;
/** Epoch milliseconds and counts: SQLite's INTEGER, Postgres's 64-bit bigint, read as a JS number. */
type IntegerOf<D extends Dialect, N extends string> = D extends "sqlite"
  ? SQLiteIntegerBuilderInitial<N>
  : PgBigInt53BuilderInitial<N>;
/** SQLite stores 0/1 in an INTEGER; Postgres has boolean. */
type BooleanOf<D extends Dialect, N extends string> = D extends "sqlite"
  ? SQLiteBooleanBuilderInitial<N>
  : PgBooleanBuilderInitial<N>;
/** SQLite stores JSON as text; Postgres as jsonb. */
type JsonOf<D extends Dialect, N extends string> = D extends "sqlite"
  ? SQLiteTextJsonBuilderInitial<N>
  : PgJsonbBuilderInitial<N>;
type BuilderBaseOf<D extends Dialect> = D extends "sqlite" ? SQLiteColumnBuilderBase : PgColumnBuilderBase;
type IndexColumnOf<D extends Dialect> = D extends "sqlite" ? SQLiteColumn : ExtraConfigColumn;
type TableExtraOf<D extends Dialect> = D extends "sqlite" ? SQLiteTableExtraConfigValue : PgTableExtraConfigValue;

declare const builder: unique symbol;

/**
 * A column as the schema writes it. At run time it is the dialect's own Drizzle builder `B`; its
 * methods here return what Drizzle's return (`notNull()` is `NotNull<this>`, and so on). Only the
 * methods both dialects share, with the same meaning, are offered. Primary keys are text: SQLite
 * would type an integer one as having a default, which primaryKey() here does not say.
 */
export interface SchemaColumn<B extends ColumnBuilderBase> {
  readonly [builder]: B;
  notNull(): SchemaColumn<NotNull<B>>;
  primaryKey(): SchemaColumn<IsPrimaryKey<NotNull<B>>>;
  default(value: B["_"]["data"]): SchemaColumn<HasDefault<B>>;
  unique(): SchemaColumn<B>;
  references(ref: () => Column, actions: { onDelete: "cascade" }): SchemaColumn<B>;
}

type ColumnsOf<D extends Dialect> = Record<string, SchemaColumn<BuilderBaseOf<D>>>;
type BuildersOf<C extends Record<string, SchemaColumn<ColumnBuilderBase>>> = { [K in keyof C]: C[K][typeof builder] };

/** Exactly the type sqliteTable() or pgTable() gives a table with these columns. */
type TableOf<D extends Dialect, N extends string, C extends ColumnsOf<D>> = D extends "sqlite"
  ? SQLiteTableWithColumns<{ name: N; schema: undefined; columns: BuildColumns<N, BuildersOf<C>, "sqlite">; dialect: "sqlite" }>
  : PgTableWithColumns<{ name: N; schema: undefined; columns: BuildColumns<N, BuildersOf<C>, "pg">; dialect: "pg" }>;

type IndexOn<D extends Dialect> = {
  on(first: IndexColumnOf<D>, ...rest: IndexColumnOf<D>[]): TableExtraOf<D>;
};

/** What a dialect passes to defineSchema(): its column functions, each named for what it stores. */
export type ColumnBuilders<D extends Dialect> = {
  table<N extends string, C extends ColumnsOf<D>>(
    name: N,
    columns: C,
    extra?: (columns: { [K in keyof C]: IndexColumnOf<D> }) => TableExtraOf<D>[],
  ): TableOf<D, N, C>;
  text<N extends string, U extends string, E extends Readonly<[U, ...U[]]>>(
    name: N,
    config?: { enum: E | Writable<E> },
  ): SchemaColumn<TextOf<D, N, Writable<E>>>;
  integer<N extends string>(name: N): SchemaColumn<IntegerOf<D, N>>;
  boolean<N extends string>(name: N): SchemaColumn<BooleanOf<D, N>>;
  json<N extends string>(name: N): SchemaColumn<JsonOf<D, N>>;
  index(name: string): IndexOn<D>;
  uniqueIndex(name: string): IndexOn<D>;
};

/**
 * The one place a Drizzle builder is seen as a SchemaColumn and back. Sound because the object is
 * the builder itself: SchemaColumn only restates, for the type checker, methods the builder has.
 */
export function schemaColumn<B extends ColumnBuilderBase>(column: B): SchemaColumn<B> {
  return column as unknown as SchemaColumn<B>;
}

export function drizzleBuilders<C extends Record<string, SchemaColumn<ColumnBuilderBase>>>(
  columns: C,
): BuildersOf<C> {
  return columns as unknown as BuildersOf<C>;
}
