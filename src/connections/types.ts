import type { Tables } from "../db/client.ts";
import type { ToolDefinition } from "./tool-defs.ts";
import type { HeldCounts } from "./held.ts";

/** A connection as stored. */
export type ConnectionRow = Tables["connections"]["$inferSelect"];
/** A connection with its tool counts, as lists and pages show it. */
/** `held`: how many of its enabled items changed upstream and wait for review (held.ts). */
export type ConnectionMeta = ConnectionRow & { toolCount: number; enabledToolCount: number; held: HeldCounts };
/** One of a connection's tools, as its page shows it. */
export type ToolRow = ToolDefinition & { enabled: boolean; exposedName: string };
