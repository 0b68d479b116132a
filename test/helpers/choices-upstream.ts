import { createMcpHandler, Server } from "@modelcontextprotocol/server";

/** One tool whose argument is a list of choices (an array of enum items): the Test-a-tool checkboxes. */
export const CHOICES_TOOL = "paint";

export async function startChoicesUpstream(): Promise<{ url: string; stop(): Promise<void> }> {
  const handler = createMcpHandler(() => {
    const server = new Server({ name: "choices", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler("tools/list", () => ({
      tools: [
        {
          name: CHOICES_TOOL,
          description: "Paints with the chosen colours.",
          inputSchema: { type: "object", properties: { colours: { type: "array", items: { type: "string", enum: ["red", "green", "blue"] } } }, required: ["colours"] },
        },
      ],
    }));
    server.setRequestHandler("tools/call", (request) => ({ content: [{ type: "text", text: `painted ${JSON.stringify(request.params.arguments?.colours)}` }] }));
    return server;
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => handler.fetch(request) });
  return {
    url: `http://127.0.0.1:${server.port}/mcp`,
    async stop() {
      await server.stop(true);
      await handler.close();
    },
  };
}
