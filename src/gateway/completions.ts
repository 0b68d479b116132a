import type { CompleteResult, Server } from "@modelcontextprotocol/server";
import type { Principal } from "../accounts/principal.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { unwrapResourceUri, wrapResourceUri } from "./resource-uris.ts";
import type { CallDeps } from "./results.ts";
import { sendRouted, toProtocolError } from "./routed.ts";
import { resolveInView, WORKSPACE_VIEW, type GatewayView } from "./view.ts";

const NOTHING: CompleteResult = { completion: { values: [] } };

/**
 * completion/complete routed by its reference: a `connection__prompt` name, or a gateway template
 * URI, to that connection's upstream under the upstream's own name or template. A reference the
 * gateway does not know, or one turned off, completes to nothing (what a server without
 * suggestions answers): completions are typed as the user goes, and an error per keystroke helps nobody.
 */
export function registerCompletionHandler(server: Server, deps: CallDeps, principal: Principal, view: GatewayView = WORKSPACE_VIEW): void {
  server.setRequestHandler("completion/complete", async (request, ctx): Promise<CompleteResult> => {
    const items = await deps.itemIndex.get(principal.workspaceId);
    const ref = request.params.ref;
    let target: { connection: ConnectionMeta; ref: typeof ref } | null = null;
    if (ref.type === "ref/prompt") {
      const exposed = resolveInView(view, ref.name, items.promptRoutes, (r) => ({ connectionName: r.connection.name, originalName: r.name }));
      const route = exposed === null ? undefined : items.promptRoutes.get(exposed);
      if (route?.enabled && !route.held) target = { connection: route.connection, ref: { ...ref, name: route.name } };
    } else {
      const unwrapped = unwrapResourceUri(view.kind === "connection" ? wrapResourceUri(view.connectionName, ref.uri) : ref.uri);
      const own = unwrapped && items.byConnection.get(unwrapped.connectionName);
      const template = own?.templates.find((t) => t.item.name === unwrapped?.uri);
      if (own && unwrapped && template?.item.enabled && !template.item.held) target = { connection: own.connection, ref: { ...ref, uri: unwrapped.uri } };
    }
    if (!target) return NOTHING;
    const { connection, ref: upstreamRef } = target;
    const answer = await sendRouted(deps, principal, connection, (pooled, options) => {
      // An upstream that never offered completions would answer "method not found" to every keystroke.
      if (!pooled.client.getServerCapabilities()?.completions) return Promise.resolve(NOTHING);
      return pooled.client.complete({ ...request.params, ref: upstreamRef }, options);
    }, { signal: ctx.mcpReq.signal });
    if (!answer.ok) throw toProtocolError(answer);
    return answer.value;
  });
}
