import { type Column, getTableColumns, Param, type SQL, sql, type Table } from "drizzle-orm";
import type { Db } from "./client.ts";

type Options = {
  /** Values for fields a row lacks (undefined or null); any other lacking field is null. */
  defaults?: Record<string, unknown>;
  onConflictDoNothing?: boolean;
  /** A column's key: its value for each row stored now (not skipped by ON CONFLICT DO NOTHING). */
  returning?: string;
};

/**
 * PostgreSQL only: rows inserted by one statement with one array parameter per column
 * (`insert … select * from unnest($1::text[], $2::bigint[], …)`), in `tx`. Drizzle's multi-row
 * insert has a parameter per value and is built and typed anew for every batch: for the access
 * log's 500-row batches that was most of the write's CPU (bench/README.md). Every column of the
 * table, in its order, each value through its column's `mapToDriverValue` as drizzle's would be.
 * Unlike drizzle's insert, a field a row lacks is not the column's DEFAULT: give those in `defaults`.
 */
export async function unnestInsert(tx: Db, table: Table, rows: object[], options: Options = {}): Promise<unknown[]> {
  if (rows.length === 0) return [];
  const columns = Object.entries(getTableColumns(table)) as [string, Column][];
  const arrays = columns.map(([key, column]) => sql`${new Param(valuesOf(rows, key, column, options.defaults))}::${sql.raw(column.getSQLType())}[]`);
  const names = sql.join(
    columns.map(([, column]) => sql.identifier(column.name)),
    sql`, `,
  );
  const parts: SQL[] = [sql`insert into ${table} (${names}) select * from unnest(${sql.join(arrays, sql`, `)})`];
  if (options.onConflictDoNothing) parts.push(sql`on conflict do nothing`);
  const returning = options.returning === undefined ? undefined : columns.find(([key]) => key === options.returning)?.[1];
  if (returning) parts.push(sql`returning ${sql.identifier(returning.name)}`);
  const result = await (tx as unknown as { execute(query: SQL): Promise<Record<string, unknown>[]> }).execute(sql.join(parts, sql` `));
  return returning ? Array.from(result, (row) => row[returning.name]) : [];
}

function valuesOf(rows: object[], key: string, column: Column, defaults: Record<string, unknown> | undefined): unknown[] {
  const fallback = defaults?.[key] ?? null;
  return rows.map((row) => {
    const value = (row as Record<string, unknown>)[key] ?? fallback;
    return value === null ? null : column.mapToDriverValue(value);
  });
}
