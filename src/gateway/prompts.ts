import { ProtocolError, ProtocolErrorCode, type GetPromptResult, type Server } from "@modelcontextprotocol/server";
import type { Outcome } from "../accesslog/recorder.ts";
import type { Principal } from "../accounts/principal.ts";
import type { CallDeps } from "./results.ts";
import { wrapContentUri } from "./resource-uris.ts";
import { recordItemAccess, sendRouted, toProtocolError } from "./routed.ts";
import type { RoutedItem } from "./item-index.ts";
import { heldSentence } from "../connections/held.ts";
import { listInView, resolveInView, WORKSPACE_VIEW, type GatewayView, type ItemOrigin } from "./view.ts";

const promptOrigin = (route: RoutedItem): ItemOrigin => ({ connectionName: route.connection.name, originalName: route.name });

/**
 * prompts/list from memory (the item index), prompts/get routed to the prompt's upstream by its
 * `connection__prompt` name, with the client's arguments, and recorded in the access log.
 */
export function registerPromptHandlers(server: Server, deps: CallDeps, principal: Principal, view: GatewayView = WORKSPACE_VIEW): void {
  server.setRequestHandler("prompts/list", async () => {
    const items = await deps.itemIndex.get(principal.workspaceId);
    return { prompts: listInView(view, items.prompts, items.promptRoutes, promptOrigin) };
  });
  server.setRequestHandler("prompts/get", async (request, ctx): Promise<GetPromptResult> => {
    const started = performance.now();
    const name = request.params.name;
    const items = await deps.itemIndex.get(principal.workspaceId);
    const exposed = resolveInView(view, name, items.promptRoutes, promptOrigin);
    const route = exposed === null ? undefined : items.promptRoutes.get(exposed);
    const record = (outcome: Outcome, errorSummary: string | null, credentialUserId: string | null = null): void =>
      recordItemAccess(deps, principal, { kind: "prompt", connectionName: route?.connection.name ?? null, name: route?.name ?? name, outcome, errorSummary, credentialUserId, started });
    if (!route) {
      record("denied", "unknown prompt");
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}. prompts/list names the prompts this key may use.`);
    }
    if (!route.enabled) {
      record("denied", "prompt turned off");
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `${name} is turned off in the gateway. A workspace admin can turn it on in the dashboard.`);
    }
    if (route.held) {
      const sentence = heldSentence(name, route.connection.name);
      record("denied", sentence);
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, sentence);
    }
    const answer = await sendRouted(
      deps,
      principal,
      route.connection,
      (pooled, options) => pooled.client.getPrompt({ name: route.name, ...(request.params.arguments ? { arguments: request.params.arguments } : {}) }, options),
      { signal: ctx.mcpReq.signal },
    );
    record(answer.ok ? "ok" : answer.outcome, answer.ok ? null : answer.summary, answer.credentialUserId);
    if (!answer.ok) throw toProtocolError(answer);
    const connectionName = route.connection.name;
    if (view.kind === "connection") return answer.value;
    return { ...answer.value, messages: answer.value.messages.map((m) => ({ ...m, content: wrapContentUri(connectionName, m.content) })) };
  });
}
