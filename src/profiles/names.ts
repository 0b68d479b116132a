import { CONNECTION_NAME } from "../connections/names.ts";

/** Profile names sit in a URL (/api/v1/mcp/p/<profile>): the same rules as connection names. */
export function checkProfileName(name: string): string | null {
  if (!CONNECTION_NAME.test(name)) return "Use 1–32 characters: lowercase letters, digits and dashes, starting with a letter or digit (e.g. support-agent).";
  return null;
}
