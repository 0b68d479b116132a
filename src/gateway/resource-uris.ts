import { CONNECTION_NAME } from "../connections/names.ts";

/**
 * How an upstream's resource URIs look through the gateway: `mcpgw://<connection>/<original>`, the
 * original URI appended verbatim. The connection sits in the authority, which a connection name
 * (`[a-z0-9-]`, no `/`) always ends, so two connections' URIs never meet and every URI routes
 * back to exactly one of them, whatever the original holds (`/`, `%`, `{`, `#`, another mcpgw URI).
 *
 * Verbatim, not percent-encoded, because of templates: a client expands `mcpgw://c/file:///{path}`
 * exactly as it would have expanded `file:///{path}`, so stripping the prefix gives the URI the
 * upstream itself expects. Had the original been encoded, the expanded part (already encoded by
 * the client's RFC 6570 expansion) could not be told apart from the encoded literal part.
 */
export const RESOURCE_SCHEME = "mcpgw://";

export function wrapResourceUri(connectionName: string, uri: string): string {
  return `${RESOURCE_SCHEME}${connectionName}/${uri}`;
}

/** The connection and the upstream's own URI of a gateway URI; null when it is not one. */
export function unwrapResourceUri(uri: string): { connectionName: string; uri: string } | null {
  if (!uri.startsWith(RESOURCE_SCHEME)) return null;
  const slash = uri.indexOf("/", RESOURCE_SCHEME.length);
  if (slash < 0) return null;
  const connectionName = uri.slice(RESOURCE_SCHEME.length, slash);
  if (!CONNECTION_NAME.test(connectionName)) return null;
  return { connectionName, uri: uri.slice(slash + 1) };
}

/**
 * A tool's `_meta` with its MCP Apps resource (`ui.resourceUri`, and the older
 * `openai/outputTemplate`) pointed at the gateway's URI for it, so the App's resource is read
 * through the gateway. Everything else is kept as it is; the input is not changed.
 */
export function rewriteToolMeta(connectionName: string, meta: Record<string, unknown> | null | undefined): Record<string, unknown> | undefined {
  if (!meta) return undefined;
  const out: Record<string, unknown> = { ...meta };
  const ui = meta.ui;
  if (ui && typeof ui === "object" && !Array.isArray(ui) && typeof (ui as { resourceUri?: unknown }).resourceUri === "string") {
    out.ui = { ...ui, resourceUri: wrapResourceUri(connectionName, (ui as { resourceUri: string }).resourceUri) };
  }
  const template = meta["openai/outputTemplate"];
  if (typeof template === "string") out["openai/outputTemplate"] = wrapResourceUri(connectionName, template);
  return out;
}

/**
 * The other way, for a connection's own URL (which shows the upstream's URIs as they are): a listed
 * tool's `_meta` with its MCP Apps resource pointed back at the upstream's own URI.
 */
export function unwrapToolMeta(meta: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...meta };
  const ui = meta.ui;
  const uri = ui && typeof ui === "object" && !Array.isArray(ui) ? (ui as { resourceUri?: unknown }).resourceUri : undefined;
  const unwrapped = typeof uri === "string" ? unwrapResourceUri(uri) : null;
  if (unwrapped) out.ui = { ...(ui as object), resourceUri: unwrapped.uri };
  const template = meta["openai/outputTemplate"];
  const unwrappedTemplate = typeof template === "string" ? unwrapResourceUri(template) : null;
  if (unwrappedTemplate) out["openai/outputTemplate"] = unwrappedTemplate.uri;
  return out;
}

/**
 * One content block with the resource it carries (an embedded resource, a resource link) pointed
 * at the gateway's URI for it, so that a client reads it back through the gateway.
 */
export function wrapContentUri<T>(connectionName: string, block: T): T {
  if (!block || typeof block !== "object") return block;
  const b = block as Record<string, unknown>;
  if (b.type === "resource_link" && typeof b.uri === "string") return { ...b, uri: wrapResourceUri(connectionName, b.uri) } as T;
  const resource = b.resource as Record<string, unknown> | undefined;
  if (b.type === "resource" && resource && typeof resource.uri === "string") return { ...b, resource: { ...resource, uri: wrapResourceUri(connectionName, resource.uri) } } as T;
  return block;
}
