/** The `prev_hash` of the very first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** An entry as it is hashed: every stored column but `seq` (the chain itself is the order) and `hash`. */
export type ChainedFields = {
  at: number;
  workspaceId: string | null;
  actor: string;
  fromIp: string | null;
  fromUserAgent: string | null;
  action: string;
  target: string | null;
  /** Canonical JSON text, exactly as stored. */
  details: string;
  prevHash: string;
};

/**
 * SHA-256 over a JSON array of the fields in a fixed order: arrays of strings, numbers and nulls
 * have one JSON spelling, so the encoding is canonical without a library. A version tag first, so a
 * later encoding can never collide with this one.
 */
export function hashEntry(entry: ChainedFields): string {
  const encoded = JSON.stringify([
    "mcp-gateway audit v1",
    entry.at,
    entry.workspaceId,
    entry.actor,
    entry.fromIp,
    entry.fromUserAgent,
    entry.action,
    entry.target,
    entry.details,
    entry.prevHash,
  ]);
  // Bun's one-shot SHA-256: a seventh of node:crypto's createHash per entry (bench/README.md).
  return Bun.SHA256.hash(encoded, "hex");
}

/** JSON with object keys sorted at every depth: the same details always give the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) sorted[key] = sortKeys(item);
  }
  return sorted;
}
