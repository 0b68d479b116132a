import type { ServerCapabilities } from "@modelcontextprotocol/server";
import { MAX_INSTRUCTIONS_PER_CONNECTION } from "../connections/server-profile.ts";
import type { ConnectionRow } from "../connections/types.ts";

/**
 * What the gateway says of itself to one workspace's clients (initialize, server/discover): the
 * capabilities its connections offer and their instructions beside its own. Built with the tool
 * index, from what discovery stored, so that building a server per request reads no database.
 */
export type GatewayProfile = { capabilities: ServerCapabilities; instructions: string };

export const GATEWAY_INSTRUCTIONS =
  "This gateway serves tools of several MCP servers, named connection__tool, beside its own gateway__ tools. " +
  "With many tools, use gateway__search_tools to find one and gateway__call_tool to call it.";

/** The merged instructions stop here, whatever the number of connections: they go into every client's context. */
export const MAX_INSTRUCTIONS = 16 * 1024;

/**
 * The capabilities the gateway relays when some connection offers them. Tools are always announced
 * (the native tools); a capability enters this list with the code that relays it, so the gateway
 * never announces a method it would answer with "Method not found".
 */
export const RELAYED_CAPABILITIES = ["prompts", "resources", "completions", "logging", "tasks"] as const satisfies readonly (keyof ServerCapabilities)[];

export function buildGatewayProfile(connections: Pick<ConnectionRow, "name" | "serverCapabilities" | "serverInstructions">[]): GatewayProfile {
  const capabilities: ServerCapabilities = { tools: { listChanged: true } };
  for (const name of RELAYED_CAPABILITIES) {
    const offered = connections.filter((c) => isObject(c.serverCapabilities) && isObject(c.serverCapabilities[name]));
    if (offered.length > 0) Object.assign(capabilities, { [name]: relayedCapability(name, offered.map((c) => (c.serverCapabilities as Record<string, Record<string, unknown>>)[name]!)) });
  }
  return { capabilities, instructions: mergeInstructions(connections) };
}

/**
 * Prompts, resources (subscribe when some connection lets one subscribe), completions, logging.
 * Tasks: what any connection offers, merged (a task-augmented call goes to the one connection that
 * owns the tool, and the upstream refuses what it does not support).
 */
function relayedCapability(name: (typeof RELAYED_CAPABILITIES)[number], offers: Record<string, unknown>[]): Record<string, unknown> {
  switch (name) {
    // The gateway tells its clients when its own lists change, whether or not an upstream does.
    case "prompts":
      return { listChanged: true };
    case "resources":
      return { listChanged: true, ...(offers.some((o) => o.subscribe === true) ? { subscribe: true } : {}) };
    case "completions":
    case "logging":
      return {};
    case "tasks": {
      const anyOffers = (key: string): boolean => offers.some((o) => isObject(o[key]));
      const callable = offers.some((o) => isObject(o.requests) && isObject(o.requests.tools) && isObject(o.requests.tools.call));
      return { ...(anyOffers("list") ? { list: {} } : {}), ...(anyOffers("cancel") ? { cancel: {} } : {}), ...(callable ? { requests: { tools: { call: {} } } } : {}) };
    }
  }
}

/**
 * The gateway's own instructions, then each connection's under its name (the prefix of its tools),
 * in name order; each was clipped at discovery, and the whole stops at MAX_INSTRUCTIONS with a note
 * that says so.
 */
export function mergeInstructions(connections: Pick<ConnectionRow, "name" | "serverInstructions">[]): string {
  let merged = GATEWAY_INSTRUCTIONS;
  const sorted = connections.filter((c) => c.serverInstructions).toSorted((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const [i, connection] of sorted.entries()) {
    const section = `\n\n## ${connection.name} (tools named ${connection.name}__…)\n${clip(connection.serverInstructions!, MAX_INSTRUCTIONS_PER_CONNECTION)}`;
    // Room is kept for the note that says what was left out.
    if (merged.length + section.length > MAX_INSTRUCTIONS - 200) {
      return `${merged}\n\n(Instructions of ${sorted.length - i} more connection${sorted.length - i === 1 ? "" : "s"} left out: the gateway keeps its instructions under ${MAX_INSTRUCTIONS / 1024} KB.)`;
    }
    merged += section;
  }
  return merged;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isObject(value: unknown): value is Record<string, Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
