import { and, eq, inArray } from "drizzle-orm";
import type { Client } from "@modelcontextprotocol/client";
import type { Db, Database } from "../db/client.ts";
import { hashDefinition, toDefinition, type ToolDefinition } from "./tool-defs.ts";

export const MAX_TOOLS_PER_CONNECTION = 2000;

export type SyncReport = { added: string[]; removed: string[]; changed: string[]; total: number };

/** Every tool the upstream lists, following pagination (the SDK walks the cursors). */
export async function discoverTools(client: Client, timeoutMs: number): Promise<ToolDefinition[]> {
  const result = await client.listTools(undefined, { cacheMode: "bypass", timeout: timeoutMs, maxTotalTimeout: timeoutMs });
  const seen = new Set<string>();
  const tools: ToolDefinition[] = [];
  for (const tool of result.tools.slice(0, MAX_TOOLS_PER_CONNECTION)) {
    if (typeof tool.name !== "string" || tool.name.length === 0 || tool.name.length > 256 || seen.has(tool.name)) continue;
    seen.add(tool.name);
    tools.push(toDefinition(tool));
  }
  return tools;
}

/**
 * Makes the stored list match what the upstream listed: new tools come in enabled, changed ones
 * keep their on/off choice, vanished ones go.
 */
export async function storeTools(
  tx: Db,
  database: Database,
  connectionId: string,
  definitions: ToolDefinition[],
  options: { enabled?: (name: string) => boolean; now?: number } = {},
): Promise<SyncReport> {
  const { t } = database;
  const now = options.now ?? Date.now();
  const existing = await tx.select({ name: t.tools.name, hash: t.tools.definitionHash }).from(t.tools).where(eq(t.tools.connectionId, connectionId));
  const before = new Map(existing.map((row) => [row.name, row.hash]));
  const report: SyncReport = { added: [], removed: [], changed: [], total: definitions.length };
  const listed = new Set<string>();
  for (const def of definitions) {
    listed.add(def.name);
    const hash = hashDefinition(def);
    const previous = before.get(def.name);
    const columns = {
      title: def.title,
      description: def.description,
      inputSchema: def.inputSchema,
      outputSchema: def.outputSchema,
      annotations: def.annotations,
      definitionHash: hash,
      seenAt: now,
    };
    if (previous === undefined) {
      report.added.push(def.name);
      await tx.insert(t.tools).values({ connectionId, name: def.name, enabled: options.enabled?.(def.name) ?? true, ...columns });
    } else {
      if (previous !== hash) report.changed.push(def.name);
      await tx.update(t.tools).set(columns).where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, def.name)));
    }
  }
  report.removed = [...before.keys()].filter((name) => !listed.has(name));
  if (report.removed.length > 0) {
    await tx.delete(t.tools).where(and(eq(t.tools.connectionId, connectionId), inArray(t.tools.name, report.removed)));
  }
  return report;
}
