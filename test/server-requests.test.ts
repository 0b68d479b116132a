import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, StreamableHTTPClientTransport, type ClientCapabilities, type LoggingMessageNotification } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startAskingUpstream, type AskingUpstream } from "./helpers/asking-upstream.ts";
import { api, type Era } from "./helpers/client.ts";

// Requests from the server during a call (elicitation in form and URL mode, sampling, roots) and
// its log messages reach the client that made the call, and the client's answers reach the
// upstream: every pairing of a 2026-07-28 / 2025 upstream with a 2026-07-28 / 2025 client.

const TOKEN = "asking-upstream-bearer-canary-5d1e";
const ALL: ClientCapabilities = { elicitation: { form: {}, url: {} }, sampling: {}, roots: {} };

type Heard = { asked: string[]; logs: LoggingMessageNotification["params"][] };

/** The real SDK client with handlers for what a server may ask; `tag` marks its answers as its own. */
async function askingClient(url: string, headers: Record<string, string>, era: Era, options: { capabilities?: ClientCapabilities; tag?: string } = {}): Promise<{ client: Client; heard: Heard }> {
  const capabilities = options.capabilities ?? ALL;
  const tag = options.tag ?? "me";
  const client = new Client({ name: "asking-client", version: "1.0.0" }, {
    ...(era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : { supportedProtocolVersions: [era] }),
    capabilities,
  } as ConstructorParameters<typeof Client>[1]);
  const heard: Heard = { asked: [], logs: [] };
  if (capabilities.elicitation) {
    client.setRequestHandler("elicitation/create", async (request) => {
      const params = request.params as { message: string; mode?: string; url?: string };
      heard.asked.push(params.mode === "url" ? `url ${params.url}` : `form ${params.message}`);
      return params.mode === "url" ? { action: "accept" } : { action: "accept", content: { answer: `${tag} says yes to ${params.message}` } };
    });
  }
  if (capabilities.sampling) {
    client.setRequestHandler("sampling/createMessage", async (request) => {
      heard.asked.push("sampling");
      const first = request.params.messages[0]?.content as { text?: string };
      return { role: "assistant", content: { type: "text", text: `${tag}'s model read ${first.text}` }, model: "test-model" };
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler("roots/list", async () => {
      heard.asked.push("roots");
      return { roots: [{ uri: `file:///home/${tag}` }] };
    });
  }
  client.setNotificationHandler("notifications/message", (notification) => void heard.logs.push(notification.params));
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return { client, heard };
}

function textOf(result: unknown): string {
  return ((result as { content: { text: string }[] }).content[0]?.text) ?? "";
}

const CASES: [string, Record<string, unknown>][] = [
  ["ask_form", { question: "Deploy now?" }],
  ["ask_url", { url: "https://sign-in.example/start" }],
  ["ask_sample", { prompt: "Summarise this" }],
  ["ask_roots", {}],
  ["ask_twice", {}],
];

for (const dialect of dialects) {
  describe(`requests from the server during a call, on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let both: AskingUpstream;
    let legacy: AskingUpstream;
    const gatewayUrl = (): string => `${t.url}/api/v1/mcp`;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      key = (await seedOwner(t)).key;
      both = await startAskingUpstream({ bearer: TOKEN });
      legacy = await startAskingUpstream({ era: "2025", bearer: TOKEN });
      const call = api(t.url, key);
      for (const [name, upstream] of [["modern", both], ["legacy", legacy]] as const) {
        const added = await call("POST", "/api/v1/connections", { name, url: upstream.url, auth: { kind: "bearer", token: TOKEN } });
        expect(added.status).toBe(201);
      }
    });

    afterAll(async () => {
      await t.stop();
      await both.stop();
      await legacy.stop();
    });

    for (const clientEra of ["2026-07-28", "2025-11-25"] as Era[]) {
      for (const [connection, upstreamOf, upstreamEra] of [["modern", () => both, "2026-07-28"], ["legacy", () => legacy, "2025-11-25"]] as const) {
        test(`a ${clientEra} client answers what a ${upstreamEra} upstream asks, and the result is the upstream's own`, async () => {
          const through = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, clientEra);
          const direct = await askingClient(upstreamOf().url, { authorization: `Bearer ${TOKEN}` }, clientEra === "2026-07-28" && upstreamEra !== "2026-07-28" ? "2025-11-25" : clientEra);
          try {
            for (const [tool, args] of CASES) {
              const viaGateway = await through.client.callTool({ name: `${connection}__${tool}`, arguments: args });
              const straight = await direct.client.callTool({ name: tool, arguments: args });
              expect({ tool, text: textOf(viaGateway) }).toEqual({ tool, text: textOf(straight) });
              expect(textOf(viaGateway)).not.toContain("unknown");
            }
            expect(through.heard.asked).toEqual(direct.heard.asked);
          } finally {
            await through.client.close();
            await direct.client.close();
          }
        });
      }
    }
  });
}
