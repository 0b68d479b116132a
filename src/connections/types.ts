import type { Tables } from "../db/client.ts";
import type { ToolDefinition } from "./tool-defs.ts";

/** A connection as stored. */
export type ConnectionRow = Tables["connections"]["$inferSelect"];
/** A connection with its tool counts, as lists and pages show it. */
export type ConnectionMeta = ConnectionRow & { toolCount: number; enabledToolCount: number };
/** One of a connection's tools, as its page shows it. */
export type ToolRow = ToolDefinition & { enabled: boolean; exposedName: string };
