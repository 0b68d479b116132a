import { checkUpstreamUrl } from "../net/url-policy.ts";
import { connectUpstream, describeUpstreamError } from "../upstream/client.ts";
import type { FieldErrors } from "./checks.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { redactSecret } from "./redact.ts";
import type { UpstreamSecret } from "./secret.ts";
import { discoverTools } from "./sync.ts";
import { discoverItems, type ItemDefinition } from "./item-sync.ts";
import { hintForFailure } from "./probe-hints.ts";
import type { ToolDefinition } from "./tool-defs.ts";
import { describeServer, type ServerProfile } from "./server-profile.ts";

/** Proving a URL (and a credential) before a connection is stored with them. */

/**
 * `items`: its prompts, resources and templates, when it lists them (absent when their lists failed).
 * `server`: what the upstream said of itself, absent when it was not contacted (URL check only).
 * `suggestAuth`: the server answered 401 with OAuth metadata, so OAuth is what to offer.
 */
export type ProbeResult = { ok: true; tools: ToolDefinition[]; items?: ItemDefinition[]; server?: ServerProfile } | { ok: false; errors: FieldErrors; suggestAuth?: "oauth" };

/** Only the URL policy: an OAuth server is not usable before a person authorizes it. */
export async function checkUrlOnly(deps: Pick<ConnectionDeps, "config">, url: string): Promise<ProbeResult> {
  const checked = await checkUpstreamUrl(url, deps.config.upstreamAllow);
  return checked.ok ? { ok: true, tools: [] } : { ok: false, errors: { url: checked.reason } };
}

/** Connects once with the given credential and lists the tools: proves URL and credential work. */
export async function probe(deps: Pick<ConnectionDeps, "config">, url: string, secret: UpstreamSecret | null): Promise<ProbeResult> {
  const checked = await checkUpstreamUrl(url, deps.config.upstreamAllow);
  if (!checked.ok) return { ok: false, errors: { url: checked.reason } };
  try {
    const client = await connectUpstream({ url: checked.url.toString(), secret, allow: deps.config.upstreamAllow });
    try {
      const tools = await discoverTools(client, deps.config.callTimeoutMs);
      // Prompts and resources are extras: lists of them that fail do not refuse the server.
      const items = await discoverItems(client, deps.config.callTimeoutMs).catch(() => undefined);
      return { ok: true, tools, ...(items ? { items } : {}), server: describeServer(client) };
    } finally {
      await client.close().catch(() => undefined);
    }
  } catch (error) {
    const failure = describeUpstreamError(error);
    const hint = await hintForFailure(deps, checked.url, secret !== null, failure);
    if (hint) return { ok: false, ...hint };
    const message = redactSecret(`The gateway could not use this server: ${failure.message}.`, secret);
    return { ok: false, errors: failure.kind === "auth" ? { auth: message } : { url: message } };
  }
}
