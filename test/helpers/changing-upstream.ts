// An SDK upstream whose tool definitions a test rewrites while it runs: a description reworded, a
// schema widened, a tool added — what a "rug pull" looks like from the gateway. Serves both eras
// statelessly; every call answers with the tool's name and the description it had when called.
import { createMcpHandler, ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type Tool } from "@modelcontextprotocol/server";

export type ChangingUpstream = {
  url: string;
  /** The tools it lists now; replace or edit, then `notify()` (or let the gateway re-sync). */
  tools: Tool[];
  /** notifications/tools/list_changed to whoever listens. */
  notify(): void;
  /** Names of the tools called, in order. */
  calls: string[];
  stop(): Promise<void>;
};

export async function startChangingUpstream(tools: Tool[]): Promise<ChangingUpstream> {
  const calls: string[] = [];
  const state = { tools: structuredClone(tools) };
  const create = (): Server => {
    const server = new Server({ name: "changing-upstream", version: "1.0.0" }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler("tools/list", () => ({ tools: state.tools }));
    server.setRequestHandler("tools/call", (request): CallToolResult => {
      const tool = state.tools.find((t) => t.name === request.params.name);
      if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
      calls.push(tool.name);
      return { content: [{ type: "text", text: `${tool.name} ran` }] };
    });
    return server;
  };
  const handler = createMcpHandler(create);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 255, fetch: (request) => handler.fetch(request) });
  return {
    url: `http://127.0.0.1:${server.port}/mcp`,
    get tools() {
      return state.tools;
    },
    set tools(next: Tool[]) {
      state.tools = next;
    },
    notify: () => handler.notify.toolsChanged(),
    calls,
    async stop() {
      await server.stop(true);
      await handler.close();
    },
  };
}
