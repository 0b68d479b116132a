import { sha256 } from "@oslojs/crypto/sha2";
import { encodeHexLowerCase } from "@oslojs/encoding";
import type { Tool } from "@modelcontextprotocol/client";
import type { Tables } from "../db/client.ts";

/**
 * What we keep of an upstream tool: data only, never interpreted. Every field a client may act on
 * is kept as the upstream listed it, so that tools/list through the gateway differs from the
 * upstream's own only in the name.
 */
export type ToolDefinition = {
  name: string;
  title: string | null;
  description: string | null;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown> | null;
  annotations: Record<string, unknown> | null;
  icons: unknown[] | null;
  /** The tool's `_meta` (MCP Apps' `ui` among others). */
  meta: Record<string, unknown> | null;
  /** `execution`, whose `taskSupport` says whether a call may, must or must not be a task. */
  execution: Record<string, unknown> | null;
};

const MAX_DESCRIPTION = 16 * 1024;

export function toDefinition(tool: Tool): ToolDefinition {
  const description = tool.description ?? null;
  return {
    name: tool.name,
    title: tool.title ?? null,
    description: description && description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION)}…` : description,
    inputSchema: (tool.inputSchema as Record<string, unknown>) ?? { type: "object" },
    outputSchema: (tool.outputSchema as Record<string, unknown> | undefined) ?? null,
    annotations: (tool.annotations as Record<string, unknown> | undefined) ?? null,
    icons: Array.isArray(tool.icons) ? (tool.icons as unknown[]) : null,
    meta: objectOrNull(tool._meta),
    execution: objectOrNull(tool.execution),
  };
}

/** The name a person reads: the tool's title, else the one older servers put in its annotations. */
export function displayTitle(definition: Pick<ToolDefinition, "title" | "annotations">): string | null {
  const legacy = definition.annotations?.title;
  return definition.title ?? (typeof legacy === "string" ? legacy : null);
}

/**
 * Fields added later enter the hash only when set, so that a tool without them keeps the hash it
 * had: an upgrade alone does not report every tool as changed.
 */
export function hashDefinition(definition: ToolDefinition): string {
  const { name: _, icons, meta, execution, ...rest } = definition;
  const hashed = { ...rest, ...(icons ? { icons } : {}), ...(meta ? { meta } : {}), ...(execution ? { execution } : {}) };
  return encodeHexLowerCase(sha256(new TextEncoder().encode(JSON.stringify(hashed))));
}

/** The stored columns of a tool as a ToolDefinition (what it lists now). */
export function toolDefinitionOf(row: Tables["tools"]["$inferSelect"]): ToolDefinition {
  return {
    name: row.name,
    title: row.title,
    description: row.description,
    inputSchema: row.inputSchema as Record<string, unknown>,
    outputSchema: row.outputSchema as Record<string, unknown> | null,
    annotations: row.annotations as Record<string, unknown> | null,
    icons: row.icons as unknown[] | null,
    meta: row.meta as Record<string, unknown> | null,
    execution: row.execution as Record<string, unknown> | null,
  };
}

function objectOrNull(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
