import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, isInputRequiredResult, ProtocolError, StreamableHTTPClientTransport, type ClientCapabilities, type LoggingMessageNotification } from "@modelcontextprotocol/client";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startAskingUpstream, type AskingUpstream } from "./helpers/asking-upstream.ts";
import { startEverything } from "./helpers/everything.ts";
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
    let owner: { userId: string; workspaceId: string };
    let both: AskingUpstream;
    let legacy: AskingUpstream;
    const gatewayUrl = (): string => `${t.url}/api/v1/mcp`;

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      const seeded = await seedOwner(t);
      key = seeded.key;
      owner = seeded;
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

    test("the gateway speaks each upstream's own era to it", () => {
      // The 2025-only upstream refused the gateway's 2026 probe and was initialized; the other was not.
      expect(legacy.methods).toContain("initialize");
      expect(both.methods).toContain("server/discover");
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

    for (const clientEra of ["2026-07-28", "2025-11-25"] as Era[]) {
      test(`two ${clientEra} clients asked at once through one shared upstream client each get only their own question`, async () => {
        const a = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, clientEra, { tag: "alice" });
        const b = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, clientEra, { tag: "bob" });
        try {
          for (const connection of ["legacy", "modern"]) {
            const [ra, rb] = await Promise.all([
              a.client.callTool({ name: `${connection}__ask_form`, arguments: { question: `for alice via ${connection}` } }),
              b.client.callTool({ name: `${connection}__ask_form`, arguments: { question: `for bob via ${connection}` } }),
            ]);
            expect(textOf(ra)).toContain(`alice says yes to for alice via ${connection}`);
            expect(textOf(rb)).toContain(`bob says yes to for bob via ${connection}`);
          }
          expect(a.heard.asked).toEqual(["form for alice via legacy", "form for alice via modern"]);
          expect(b.heard.asked).toEqual(["form for bob via legacy", "form for bob via modern"]);
        } finally {
          await a.client.close();
          await b.client.close();
        }
      });

      test(`a ${clientEra} client without elicitation, sampling or roots gets a clear answer, never a hang`, async () => {
        const bare = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, clientEra, { capabilities: {} });
        try {
          for (const connection of ["legacy", "modern"]) {
            // Declined for the user, who was not asked; no roots shared; sampling cannot be stood in for.
            expect(textOf(await bare.client.callTool({ name: `${connection}__ask_form`, arguments: { question: "Deploy?" } }))).toBe('form: {"kind":"elicit","action":"decline"}');
            expect(textOf(await bare.client.callTool({ name: `${connection}__ask_url`, arguments: { url: "https://sign-in.example" } }))).toBe("url: decline");
            expect(textOf(await bare.client.callTool({ name: `${connection}__ask_roots`, arguments: {} }))).toBe("roots: ");
            const sampled = await bare.client.callTool({ name: `${connection}__ask_sample`, arguments: { prompt: "hi" } });
            expect(textOf(sampled)).toContain(`${connection} asked your client to sample its model`);
          }
          expect(bare.heard.asked).toEqual([]);
          // Asked for what it offers, and answered for what it does not, in one round.
          const formOnly = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, clientEra, { capabilities: { elicitation: { form: {} } } });
          for (const connection of ["legacy", "modern"]) {
            expect(textOf(await formOnly.client.callTool({ name: `${connection}__ask_both`, arguments: {} }))).toBe("both: me says yes to both? / roots: 0");
          }
          expect(formOnly.heard.asked).toEqual(["form both?", "form both?"]);
          await formOnly.client.close();
        } finally {
          await bare.client.close();
        }
      });

      test(`what an upstream asks a ${clientEra} client is redacted; what the client answers reaches the upstream unchanged`, async () => {
        const client = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, clientEra);
        try {
          for (const connection of ["legacy", "modern"]) {
            const result = await client.client.callTool({ name: `${connection}__ask_form`, arguments: { question: `my token is ${TOKEN}` } });
            // The client answered about the redacted question, and that answer is what the upstream got.
            expect(textOf(result)).toContain("me says yes to my token is ");
            expect(textOf(result)).not.toContain(TOKEN);
          }
          expect(client.heard.asked.length).toBe(2);
          for (const asked of client.heard.asked) expect(asked).not.toContain(TOKEN);
        } finally {
          await client.client.close();
        }
      });
    }

    test("logging/setLevel from a 2025 client reaches a 2025 upstream, and a call's log messages come back named after the connection", async () => {
      const through = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, "2025-11-25");
      const direct = await askingClient(legacy.url, { authorization: `Bearer ${TOKEN}` }, "2025-11-25");
      try {
        const before = legacy.levels.length;
        await through.client.setLoggingLevel("info");
        expect(legacy.levels.slice(before)).toEqual(["info"]);
        await direct.client.setLoggingLevel("info");
        await through.client.callTool({ name: "legacy__log_lines", arguments: { text: `hello ${TOKEN}` } });
        await direct.client.callTool({ name: "log_lines", arguments: { text: "hello" } });
        // The upstream's own logger follows the connection's name; its data is redacted.
        expect(through.heard.logs.map((l) => [l.level, l.logger])).toEqual([["info", "legacy/fixture"], ["error", "legacy/fixture"]]);
        expect(direct.heard.logs.map((l) => [l.level, l.logger])).toEqual([["info", "fixture"], ["error", "fixture"]]);
        expect(JSON.stringify(through.heard.logs)).not.toContain(TOKEN);
        expect(JSON.stringify(through.heard.logs)).toContain("info: hello ");
        // A 2026 upstream hears the level with the call itself, and sends what it allows.
        through.heard.logs.length = 0;
        await through.client.callTool({ name: "modern__log_lines", arguments: { text: "hi" } });
        expect(through.heard.logs.map((l) => [l.level, l.logger, (l.data as { text: string }).text])).toEqual([["info", "modern/fixture", "info: hi"], ["error", "modern/fixture", "error: hi"]]);
      } finally {
        await through.client.close();
        await direct.client.close();
      }
    });

    test("a 2026-07-28 client names its log level on the call, and hears that much from upstreams of either era", async () => {
      const through = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, "2026-07-28");
      try {
        for (const connection of ["legacy", "modern"]) {
          through.heard.logs.length = 0;
          await through.client.callTool({ name: `${connection}__log_lines`, arguments: { text: "x" }, _meta: { "io.modelcontextprotocol/logLevel": "error" } });
          expect(through.heard.logs.map((l) => [l.level, l.logger])).toEqual([["error", `${connection}/fixture`]]);
        }
        // Without a level, a 2026-07-28 client hears none (that revision's rule).
        through.heard.logs.length = 0;
        await through.client.callTool({ name: "modern__log_lines", arguments: { text: "x" } });
        expect(through.heard.logs).toEqual([]);
      } finally {
        await through.client.close();
      }
    });

    test("the gateway announces logging", async () => {
      const client = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, "2025-11-25");
      try {
        expect(client.client.getServerCapabilities()?.logging).toEqual({});
      } finally {
        await client.client.close();
      }
    });

    test("a 2026-07-28 client's retry is bound to its own key: a forged or borrowed requestState is refused", async () => {
      const other = await createApiKey(t.gateway.deps.database, { workspaceId: owner.workspaceId, userId: owner.userId, name: "other" });
      if (!other.ok) throw new Error("key");
      const mine = await askingClient(gatewayUrl(), { authorization: `Bearer ${key}` }, "2026-07-28");
      const theirs = await askingClient(gatewayUrl(), { authorization: `Bearer ${other.key}` }, "2026-07-28");
      try {
        for (const connection of ["legacy", "modern"]) {
          const name = `${connection}__ask_form`;
          const first = await mine.client.callTool({ name, arguments: { question: "q" } }, { allowInputRequired: true });
          if (!isInputRequiredResult(first)) throw new Error("expected input_required");
          const [askKey] = Object.keys(first.inputRequests ?? {});
          const inputResponses = { [askKey!]: { action: "accept", content: { answer: "stolen" } } };
          const borrowed = theirs.client.callTool({ name, arguments: { question: "q" }, inputResponses, requestState: first.requestState } as never, { allowInputRequired: true });
          await expect(borrowed).rejects.toBeInstanceOf(ProtocolError);
          const forged = mine.client.callTool({ name, arguments: { question: "q" }, inputResponses, requestState: `${first.requestState!.slice(0, -4)}AAAA` } as never, { allowInputRequired: true });
          await expect(forged).rejects.toThrow("Invalid or expired requestState");
          const done = await mine.client.callTool({ name, arguments: { question: "q" }, inputResponses: { [askKey!]: { action: "accept", content: { answer: "mine" } } }, requestState: first.requestState } as never, { allowInputRequired: true });
          expect(textOf(done)).toBe('form: {"kind":"elicit","action":"accept","content":{"answer":"mine"}}');
        }
      } finally {
        await mine.client.close();
        await theirs.client.close();
      }
    });
  });
}

describe("a call waiting for its client's answer is bounded", () => {
  test("a 2026-07-28 client that never comes back: the gateway cancels the upstream call, and a late retry is told so", async () => {
    const t = await startTestGateway({ env: { INPUT_WAIT_MS: "300" } });
    const legacy = await startAskingUpstream({ era: "2025" });
    try {
      const { key } = await seedOwner(t);
      expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "legacy", url: legacy.url, auth: { kind: "none" } })).status).toBe(201);
      const { client } = await askingClient(`${t.url}/api/v1/mcp`, { authorization: `Bearer ${key}` }, "2026-07-28");
      const first = await client.callTool({ name: "legacy__ask_form", arguments: { question: "q" } }, { allowInputRequired: true });
      if (!isInputRequiredResult(first)) throw new Error("expected input_required");
      expect(t.gateway.deps.pool.held.size).toBe(1);
      while (t.gateway.deps.pool.held.size > 0) await Bun.sleep(50);
      const [askKey] = Object.keys(first.inputRequests ?? {});
      const late = await client.callTool({ name: "legacy__ask_form", arguments: { question: "q" }, inputResponses: { [askKey!]: { action: "accept", content: { answer: "late" } } }, requestState: first.requestState } as never, { allowInputRequired: true });
      expect(textOf(late)).toContain("The gateway no longer holds this call");
      await client.close();
    } finally {
      await t.stop();
      await legacy.stop();
    }
  });

  test("a 2025 client that never answers: the call ends with a tool error after the wait, and nothing stays held", async () => {
    const t = await startTestGateway({ env: { INPUT_WAIT_MS: "300" } });
    const legacy = await startAskingUpstream({ era: "2025" });
    try {
      const { key } = await seedOwner(t);
      expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "legacy", url: legacy.url, auth: { kind: "none" } })).status).toBe(201);
      const client = new Client({ name: "silent", version: "1" }, { supportedProtocolVersions: ["2025-11-25"], capabilities: { elicitation: { form: {} } } } as ConstructorParameters<typeof Client>[1]);
      let asked = 0;
      client.setRequestHandler("elicitation/create", () => {
        asked++;
        return new Promise(() => undefined);
      });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${t.url}/api/v1/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
      const result = await client.callTool({ name: "legacy__ask_form", arguments: { question: "q" } });
      expect(asked).toBe(1);
      expect(result.isError).toBe(true);
      // The SDK's shim words it: "Fulfilling input required by 'tools/call' failed: Request timed out".
      expect(textOf(result)).toContain("timed out");
      while (t.gateway.deps.pool.held.size > 0) await Bun.sleep(50);
      await client.close();
    } finally {
      await t.stop();
      await legacy.stop();
    }
  });
});

describe("requests a server sends outside any call", () => {
  test("reach no client, even the one whose call made the upstream client", async () => {
    const t = await startTestGateway();
    const legacy = await startAskingUpstream({ era: "2025" });
    try {
      const { key } = await seedOwner(t);
      const added = await api(t.url, key)("POST", "/api/v1/connections", { name: "legacy", url: legacy.url, auth: { kind: "none" } });
      expect(added.status).toBe(201);
      // The next call connects afresh, on the call's behalf: that client's standalone stream must not belong to the call.
      t.gateway.deps.pool.drop(String((added.json.connection as { id: string }).id));
      const caller = await askingClient(`${t.url}/api/v1/mcp`, { authorization: `Bearer ${key}` }, "2025-11-25");
      expect(textOf(await caller.client.callTool({ name: "legacy__ask_later", arguments: {} }))).toBe("asked later");
      while (legacy.later.length < 2) await Bun.sleep(20);
      expect(legacy.later.sort()).toEqual(["elicitation: error The gateway relays elicitation/create only during a tool call, to the client that made it.", 'roots: {"roots":[]}']);
      expect(caller.heard.asked).toEqual([]);
      await caller.client.close();
    } finally {
      await t.stop();
      await legacy.stop();
    }
  });
});

describe("the reference server (server-everything, 2025-11-25) asks through the gateway", () => {
  test("its sampling and elicitation tools are offered, and answer as they do when called directly", async () => {
    const t = await startTestGateway();
    const everything = await startEverything();
    try {
      const { key } = await seedOwner(t);
      expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "everything", url: everything.url, auth: { kind: "none" } })).status).toBe(201);
      const direct = await askingClient(everything.url, {}, "2025-11-25");
      // It registers these tools only for a client that declared sampling / elicitation.
      const tools = (await direct.client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toContain("trigger-sampling-request");
      expect(tools).toContain("trigger-elicitation-request");
      for (const era of ["2026-07-28", "2025-11-25"] as Era[]) {
        const through = await askingClient(`${t.url}/api/v1/mcp`, { authorization: `Bearer ${key}` }, era);
        const listed = (await through.client.listTools()).tools.map((tool) => tool.name);
        expect(listed).toContain("everything__trigger-sampling-request");
        expect(listed).toContain("everything__trigger-elicitation-request");
        const args = { prompt: "two words", maxTokens: 10 };
        const viaGateway = await through.client.callTool({ name: "everything__trigger-sampling-request", arguments: args });
        const straight = await direct.client.callTool({ name: "trigger-sampling-request", arguments: args });
        expect(textOf(viaGateway)).toContain("me's model read Resource trigger-sampling-request context: two words");
        expect(textOf(viaGateway)).toBe(textOf(straight));
        await through.client.close();
      }
      // A client without elicitation: the gateway declines for it, and the tool says so.
      const bare = await askingClient(`${t.url}/api/v1/mcp`, { authorization: `Bearer ${key}` }, "2025-11-25", { capabilities: {} });
      const declined = await bare.client.callTool({ name: "everything__trigger-elicitation-request", arguments: {} });
      expect(textOf(declined)).toContain("declined");
      await bare.client.close();
      await direct.client.close();
    } finally {
      await t.stop();
      await everything.stop();
    }
  });
});
