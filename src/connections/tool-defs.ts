import { sha256 } from "@oslojs/crypto/sha2";
import { encodeHexLowerCase } from "@oslojs/encoding";
import type { Tool } from "@modelcontextprotocol/client";

/** What we keep of an upstream tool: data only, never interpreted. */
export type ToolDefinition = {
  name: string;
  title: string | null;
  description: string | null;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown> | null;
  annotations: Record<string, unknown> | null;
};

const MAX_DESCRIPTION = 16 * 1024;

export function toDefinition(tool: Tool): ToolDefinition {
  const description = tool.description ?? null;
  return {
    name: tool.name,
    title: tool.title ?? (tool.annotations?.title as string | undefined) ?? null,
    description: description && description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION)}…` : description,
    inputSchema: (tool.inputSchema as Record<string, unknown>) ?? { type: "object" },
    outputSchema: (tool.outputSchema as Record<string, unknown> | undefined) ?? null,
    annotations: (tool.annotations as Record<string, unknown> | undefined) ?? null,
  };
}

export function hashDefinition(definition: ToolDefinition): string {
  const { name: _, ...rest } = definition;
  return encodeHexLowerCase(sha256(new TextEncoder().encode(JSON.stringify(rest))));
}
