import type { CallToolResult } from "@modelcontextprotocol/client";

/** A tool result's text, with other content shown as `[image]`, `[audio]`… */
export function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
}

/** A tool result's text parts only. */
export function textOnly(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}
