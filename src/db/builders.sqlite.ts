import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { type ColumnBuilders, drizzleBuilders, schemaColumn } from "./columns.ts";

/** SQLite's column functions for defineSchema(). */
export const sqliteBuilders: ColumnBuilders<"sqlite"> = {
  table(name, columns, extra) {
    return sqliteTable(name, drizzleBuilders(columns), extra);
  },
  text(name, config) {
    return schemaColumn(text(name, config));
  },
  integer(name) {
    return schemaColumn(integer(name));
  },
  boolean(name) {
    return schemaColumn(integer(name, { mode: "boolean" }));
  },
  json(name) {
    return schemaColumn(text(name, { mode: "json" }));
  },
  index,
  uniqueIndex,
};
