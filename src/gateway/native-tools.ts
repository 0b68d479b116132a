import type { CallToolResult, Tool } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import { NATIVE_PREFIX, SEPARATOR } from "../connections/names.ts";
import { listStatusEvents, STATUS_LABEL } from "../connections/status.ts";
import { heldReason, heldTotal } from "../connections/held.ts";
import { errorResult, type CallDeps } from "./results.ts";

/** Calls any exposed tool by its full name, as the principal (gateway__call_tool's way in: call.ts passes it). */
export type CallAny = (name: string, args: Record<string, unknown> | undefined) => Promise<CallToolResult>;

/** The gateway's own tools: enough for a client with a small context to use hundreds of tools. */
export const NATIVE_TOOLS: Tool[] = [
  {
    name: `${NATIVE_PREFIX}${SEPARATOR}list_connections`,
    title: "List connections",
    description: "Lists the MCP servers connected to this gateway: name (the tool prefix), status, how many tools each exposes, and how many changed upstream and are held until an admin reviews them (held, heldReason). Tools of a connection that is not Connected are its last known list.",
    inputSchema: { type: "object", properties: {} },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: `${NATIVE_PREFIX}${SEPARATOR}search_tools`,
    title: "Search tools",
    description: "Finds tools across every connection by words in their name and description. Returns each tool's full name, description and input schema, ready for gateway__call_tool.",
    inputSchema: {
      type: "object",
      properties: {
        query: { type: "string", description: "Words to look for, e.g. 'create issue'" },
        limit: { type: "integer", minimum: 1, maximum: 50, description: "Most results to return (default 10)" },
      },
      required: ["query"],
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: `${NATIVE_PREFIX}${SEPARATOR}call_tool`,
    title: "Call a tool",
    description: "Calls any tool of any connection by its full name (connection__tool), with its arguments. Use gateway__search_tools first to find the name and the input schema.",
    inputSchema: {
      type: "object",
      properties: {
        name: { type: "string", description: "Full tool name, e.g. linear__create_issue" },
        arguments: { type: "object", description: "The tool's arguments" },
      },
      required: ["name"],
    },
  },
];

function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

export async function callNativeTool(deps: CallDeps, principal: Principal, tool: string, args: Record<string, unknown>, callAny: CallAny): Promise<CallToolResult> {
  const index = await deps.toolIndex.get(principal.workspaceId);
  switch (tool) {
    case "list_connections": {
      const connections = await Promise.all(
        [...index.connections.values()].map(async (c) => {
          const stale = c.status !== "connected";
          // Stale since the connection left Connected: its last recorded change of status.
          const since = stale ? (await listStatusEvents(deps.database, principal.workspaceId, c.id, 1))[0]?.at : undefined;
          return {
            name: c.name,
            status: c.status,
            statusLabel: STATUS_LABEL[c.status],
            ...(c.statusDetail ? { detail: c.statusDetail } : {}),
            stale,
            ...(since !== undefined ? { staleSince: new Date(since).toISOString() } : {}),
            ...(stale && c.lastSyncedAt ? { toolsListedAt: new Date(c.lastSyncedAt).toISOString() } : {}),
            ...(c.status === "paused" && c.pausedUntil ? { nextCheckAt: new Date(c.pausedUntil).toISOString() } : {}),
            tools: c.enabledToolCount,
            discoveredTools: c.toolCount,
            // Changed upstream since approved, and what an admin does about it (connections/held.ts).
            held: heldTotal(c.held),
            ...(heldTotal(c.held) > 0 ? { heldReason: heldReason(c.held, c.name, c.heldMode) } : {}),
          };
        }),
      );
      return jsonResult({ connections });
    }
    case "search_tools": {
      if (typeof args.query !== "string" || !args.query.trim()) return errorResult("search_tools needs a non-empty `query` string.");
      const limit = typeof args.limit === "number" && Number.isInteger(args.limit) ? Math.min(Math.max(args.limit, 1), 50) : 10;
      const words = args.query.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
      const candidates = [...NATIVE_TOOLS.map((t) => ({ name: t.name, description: t.description ?? "", inputSchema: t.inputSchema })), ...index.listed.map((t) => ({ name: t.name, description: t.description ?? "", inputSchema: t.inputSchema }))];
      const scored = candidates
        .map((t) => ({ t, score: scoreTool(t.name, t.description, words) }))
        .filter((s) => s.score > 0)
        .sort((a, b) => b.score - a.score || a.t.name.localeCompare(b.t.name))
        .slice(0, limit)
        .map((s) => s.t);
      return jsonResult({ tools: scored, total: scored.length });
    }
    case "call_tool": {
      if (typeof args.name !== "string" || !args.name) return errorResult("call_tool needs the tool's full `name`, e.g. linear__create_issue.");
      if (args.name === `${NATIVE_PREFIX}${SEPARATOR}call_tool`) return errorResult("call_tool cannot call itself.");
      const inner = args.arguments;
      if (inner !== undefined && (typeof inner !== "object" || inner === null || Array.isArray(inner))) return errorResult("`arguments` must be an object.");
      try {
        return await callAny(args.name, inner as Record<string, unknown> | undefined);
      } catch (error) {
        return errorResult(error instanceof Error ? error.message : String(error));
      }
    }
    default:
      return errorResult(`The gateway has no tool named ${NATIVE_PREFIX}${SEPARATOR}${tool}.`);
  }
}

/** Name matches count more than description matches; every word must appear somewhere. */
function scoreTool(name: string, description: string, words: string[]): number {
  const n = name.toLowerCase();
  const d = description.toLowerCase();
  let score = 0;
  for (const word of words) {
    const inName = n.includes(word);
    const inDescription = d.includes(word);
    if (!inName && !inDescription) return 0;
    score += (inName ? 3 : 0) + (inDescription ? 1 : 0);
  }
  return score;
}
