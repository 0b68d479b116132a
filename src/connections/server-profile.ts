import { eq } from "drizzle-orm";
import type { Client } from "@modelcontextprotocol/client";
import type { Db, Database } from "../db/client.ts";

/**
 * What an upstream says about itself when the gateway connects (initialize, or server/discover on
 * 2026-07-28): its capabilities and its instructions for the model. Stored at each discovery, so
 * that the gateway can announce what its connections offer without asking any of them per request.
 */
export type ServerProfile = { capabilities: Record<string, unknown> | null; instructions: string | null };

/**
 * One connection's instructions are kept up to this many characters: enough for a server's usage
 * notes, and a bound on what one upstream adds to every client's context.
 */
export const MAX_INSTRUCTIONS_PER_CONNECTION = 2 * 1024;
// Capabilities are a few flags; anything this large is not, and is not kept.
const MAX_CAPABILITIES_BYTES = 16 * 1024;

export function describeServer(client: Client): ServerProfile {
  const capabilities = client.getServerCapabilities() as Record<string, unknown> | undefined;
  const instructions = client.getInstructions();
  const fits = capabilities !== undefined && JSON.stringify(capabilities).length <= MAX_CAPABILITIES_BYTES;
  return {
    capabilities: fits ? capabilities : null,
    instructions: typeof instructions === "string" && instructions.trim() !== "" ? clipInstructions(instructions) : null,
  };
}

export async function storeServerProfile(tx: Db, database: Database, connectionId: string, profile: ServerProfile): Promise<void> {
  const { t } = database;
  await tx.update(t.connections).set({ serverCapabilities: profile.capabilities, serverInstructions: profile.instructions }).where(eq(t.connections.id, connectionId));
}

function clipInstructions(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_INSTRUCTIONS_PER_CONNECTION ? `${trimmed.slice(0, MAX_INSTRUCTIONS_PER_CONNECTION)}…` : trimmed;
}
