import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

export const CONNECTION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const NATIVE_PREFIX = "gateway";
export const SEPARATOR = "__";
const MAX_TOOL_NAME = 64;
// What MCP clients accept in a tool name; anything else from an upstream is replaced.
const UNSAFE_CHAR = /[^A-Za-z0-9_.-]/;

export function checkConnectionName(name: string): string | null {
  if (!CONNECTION_NAME.test(name)) {
    return "Use 1–32 characters: lowercase letters, digits and dashes, starting with a letter or digit (e.g. linear).";
  }
  if (name === NATIVE_PREFIX) return `"${NATIVE_PREFIX}" is reserved for the gateway's own tools.`;
  return null;
}

/**
 * The name a client sees: `connection__tool`. Longer than 64 characters, or with characters MCP
 * clients reject, it is shortened deterministically with a short hash of the original, so it
 * stays stable across syncs and still routes to the original tool.
 */
export function exposeToolName(connectionName: string, toolName: string): string {
  const plain = `${connectionName}${SEPARATOR}${toolName}`;
  if (plain.length <= MAX_TOOL_NAME && !UNSAFE_CHAR.test(toolName)) return plain;
  const hash = encodeBase32LowerCaseNoPadding(sha256(new TextEncoder().encode(toolName))).slice(0, 8);
  const room = MAX_TOOL_NAME - connectionName.length - SEPARATOR.length - hash.length - 1;
  const stem = toolName.replace(new RegExp(UNSAFE_CHAR, "g"), "_").slice(0, Math.max(room, 0));
  return `${connectionName}${SEPARATOR}${stem}_${hash}`;
}
