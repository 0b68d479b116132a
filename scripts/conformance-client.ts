// The client under test for `@modelcontextprotocol/conformance client --suite auth`: the gateway's
// own upstream connector, driven the way a person drives it in the dashboard. The suite appends
// the scenario's server URL; this adds it as an OAuth connection, authorizes it (the scenario's
// authorization server approves at once, so the browser is a fetch that reads the redirect), and
// calls its tool through the gateway's call path. A tool that answers "needs more scope" is
// re-authorized once, as a person would after reading that answer (step-up).
//
//   bun node_modules/@modelcontextprotocol/conformance/dist/index.js client \
//     --command "bun scripts/conformance-client.ts" --suite auth --expected-failures conformance/client-auth-baseline.yml
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { prepareDeps } from "../src/runtime.ts";
import type { ServiceDeps } from "../src/deps.ts";
import { setupOwner } from "../src/accounts/accounts.ts";
import type { Principal } from "../src/accounts/principal.ts";
import { addConnection } from "../src/connections/add.ts";
import { getConnection } from "../src/connections/queries.ts";
import { ToolIndex } from "../src/gateway/tool-index.ts";
import { UpstreamPool } from "../src/upstream/pool.ts";
import { AccessLogRecorder } from "../src/accesslog/recorder.ts";
import { callTool } from "../src/gateway/call.ts";
import { OAuthManager } from "../src/upstream/oauth/manager.ts";
import { finishAuthorization, startAuthorization } from "../src/upstream/oauth/authorize.ts";

// The URL the suite expects a metadata-document client to use as its client_id: it plays the part
// of a gateway whose BASE_URL is https and serves its document there.
const CLIENT_METADATA_URL = "https://conformance-test.local/client-metadata.json";

const serverUrl = process.argv.at(-1) ?? "";
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}") as { client_id?: string; client_secret?: string };
const dataDir = mkdtempSync(join(tmpdir(), "mgw-conformance-"));

function say(message: string): void {
  process.stderr.write(`[gateway connector] ${message}\n`);
}

async function main(): Promise<number> {
  const loaded = loadConfig({ DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "warn", UPSTREAM_ALLOW: "127.0.0.1,localhost,::1" });
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  const config = loaded.config;
  const log = createLogger("warn", (line) => process.stderr.write(line));
  const { deps: core } = await prepareDeps(config, log);
  // assembleDeps, minus the MCP endpoint, with the metadata-document URL the suite expects.
  const oauth = new OAuthManager({ database: core.database, keyring: core.keyring, allow: config.upstreamAllow, log, clientMetadataUrl: CLIENT_METADATA_URL });
  const pool = new UpstreamPool({ database: core.database, keyring: core.keyring, allow: config.upstreamAllow, log, authProviderFor: (c) => oauth.authProviderFor(c) });
  const deps: ServiceDeps = { ...core, toolIndex: new ToolIndex(core.database), pool, oauth, accessLog: new AccessLogRecorder(core.database, log, { dataDir: core.config.dataDir, memoryRows: core.config.accessLogMemoryRows, waitMs: core.config.databaseWaitMs }) };
  try {
    const owner = await setupOwner(deps.database, { email: "conformance@example.com", password: "conformance password" });
    if (!owner.ok) throw new Error("setup failed");
    const principal: Principal = { workspaceId: owner.workspaceId, userId: owner.userId, email: "conformance@example.com", role: "owner", credential: { kind: "session" } };
    const added = await addConnection(deps, principal, { name: "conformance", url: serverUrl, auth: { kind: "oauth", clientId: context.client_id, clientSecret: context.client_secret }, expose: "all" });
    if (!added.ok) throw new Error(`add: ${JSON.stringify(added.errors)}`);
    const id = added.connection.id;

    for (let authorization = 1; authorization <= 2; authorization++) {
      if (!(await authorize(deps, principal, id))) return 1;
      const connection = await getConnection(deps, principal.workspaceId, id);
      const tool = connection ? [...(await deps.toolIndex.get(principal.workspaceId)).routes.values()].find((r) => r.connectionId === id) : undefined;
      if (!tool) {
        say("connected, but the server lists no tool");
        return 1;
      }
      const result: CallToolResult = await callTool(deps, principal, tool.exposedName, {});
      const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join(" ");
      say(`${tool.exposedName}: ${text}`);
      if (!result.isError) return 0;
      if (!text.includes("Re-authorize")) return 1;
    }
    return 1;
  } finally {
    await pool.closeAll();
    await deps.database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Connect: start, let the authorization server approve, bring its redirect to our callback. */
async function authorize(deps: ServiceDeps, principal: Principal, id: string): Promise<boolean> {
  const connection = await getConnection(deps, principal.workspaceId, id);
  if (!connection) return false;
  const started = await startAuthorization(deps, connection, { userId: principal.userId, display: "page" });
  if (!started.ok) {
    say(`authorization refused: ${started.reason}`);
    return false;
  }
  const approved = await fetch(started.authorizationUrl, { redirect: "manual" });
  const location = approved.headers.get("location");
  if (!location) {
    say(`the authorization server answered ${approved.status} without a redirect`);
    return false;
  }
  const finished = await finishAuthorization(deps, new URL(location).searchParams, { userId: principal.userId, workspaceId: principal.workspaceId });
  say(finished.ok ? `authorized (${finished.tools} tools)` : `authorization failed: ${finished.reason}`);
  return finished.ok;
}

process.exit(await main().catch((error) => {
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
}));
