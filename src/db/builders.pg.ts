import { bigint, boolean, index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { type ColumnBuilders, drizzleBuilders, schemaColumn } from "./columns.ts";

/** Postgres's column functions for defineSchema(). */
export const pgBuilders: ColumnBuilders<"pg"> = {
  table(name, columns, extra) {
    return pgTable(name, drizzleBuilders(columns), extra);
  },
  text(name, config) {
    return schemaColumn(text(name, config));
  },
  integer(name) {
    return schemaColumn(bigint(name, { mode: "number" }));
  },
  boolean(name) {
    return schemaColumn(boolean(name));
  },
  json(name) {
    return schemaColumn(jsonb(name));
  },
  index,
  uniqueIndex,
};
