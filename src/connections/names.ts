import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

// No underscore: the first `__` of an exposed name always ends the connection's name, so
// `connection__tool` names of different connections can never meet.
export const CONNECTION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const NATIVE_PREFIX = "gateway";
export const SEPARATOR = "__";
export const MAX_TOOL_NAME = 64;
// What MCP clients accept in a tool name; anything else from an upstream is replaced.
const UNSAFE_CHAR = /[^A-Za-z0-9_.-]/;
const HASH_MARK = "--";
/**
 * The tail of every shortened name: the mark, then base32 of SHA-256. An upstream name that ends
 * this way is shortened too, so a verbatim name can never take the shape of a shortened one.
 */
const SHORTENED_TAIL = /--[a-z2-7]{8,}$/;
/**
 * Hash lengths, shortest first. 8 characters (40 bits) keep names readable; an upstream can still
 * find two names sharing them in seconds, so the tool index gives the later one a longer hash
 * (26 characters, 130 bits, still fits beside a 32-character connection name).
 */
export const HASH_LENGTHS = [8, 16, 26] as const;

export function checkConnectionName(name: string): string | null {
  if (!CONNECTION_NAME.test(name)) {
    return "Use 1–32 characters: lowercase letters, digits and dashes, starting with a letter or digit (e.g. linear).";
  }
  if (name === NATIVE_PREFIX) return `"${NATIVE_PREFIX}" is reserved for the gateway's own tools.`;
  return null;
}

/**
 * The name a client sees: `connection__tool`. Longer than 64 characters, with characters MCP
 * clients reject, or already shaped like a shortened name, it is shortened deterministically to
 * `connection__stem--hash` (a hash of the original), so it stays stable across syncs and still
 * routes to the original tool. Two shortened names of one connection can only meet when their
 * hashes do: the tool index then asks again with a longer `hashLength`.
 */
export function exposeToolName(connectionName: string, toolName: string, hashLength: number = HASH_LENGTHS[0]): string {
  const plain = `${connectionName}${SEPARATOR}${toolName}`;
  if (plain.length <= MAX_TOOL_NAME && !UNSAFE_CHAR.test(toolName) && !SHORTENED_TAIL.test(plain)) return plain;
  const hash = encodeBase32LowerCaseNoPadding(sha256(new TextEncoder().encode(toolName))).slice(0, hashLength);
  const room = MAX_TOOL_NAME - connectionName.length - SEPARATOR.length - HASH_MARK.length - hash.length;
  const stem = toolName.replace(new RegExp(UNSAFE_CHAR, "g"), "_").slice(0, Math.max(room, 0));
  return `${connectionName}${SEPARATOR}${stem}${HASH_MARK}${hash}`;
}

/**
 * Why an admin's alias for a tool is refused, or null. It obeys what MCP clients accept in a tool
 * name, and has no `__`: every `connection__tool` and `gateway__` name has one, so an alias without
 * it can never meet a name the gateway makes, now or when a connection lists a new tool later.
 * Whether another tool has it already is the caller's question (tool-override-set.ts).
 */
export function checkToolAlias(alias: string): string | null {
  if (alias.length > MAX_TOOL_NAME) return `An alias is at most ${MAX_TOOL_NAME} characters, the longest tool name MCP clients accept; this one has ${alias.length}.`;
  if (UNSAFE_CHAR.test(alias)) return "An alias may use only letters, digits, _ (underscore), - (dash) and . (dot): MCP clients refuse other characters in a tool name.";
  if (alias.includes(SEPARATOR)) {
    return `An alias cannot contain "${SEPARATOR}": the gateway's own names (connection${SEPARATOR}tool, ${NATIVE_PREFIX}${SEPARATOR}…) use it, so such an alias could meet one of them. Use a single _ or a - instead.`;
  }
  return null;
}
