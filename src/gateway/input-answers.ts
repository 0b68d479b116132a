import type { ClientCapabilities } from "@modelcontextprotocol/server";
import type { UpstreamAsk } from "../upstream/server-requests.ts";

/**
 * The gateway's upstream client declares elicitation, sampling and roots for every caller (one
 * client is shared, and upstreams choose their tools at the handshake). When the caller of a call
 * did not declare what the upstream asks for, the gateway answers in its place, the way a client
 * without it would be understood:
 *  - elicitation (form, or URL mode without `elicitation.url`): `decline` — the user was not asked;
 *  - roots: an empty list — the caller shares none;
 *  - sampling: no answer can stand in for a model, so the ask fails with a sentence naming why.
 */
export type StandIn = { answer: Record<string, unknown> } | { refuse: string } | null;

export function standInAnswer(ask: UpstreamAsk, capabilities: ClientCapabilities | undefined, connection: string): StandIn {
  switch (ask.method) {
    case "elicitation/create": {
      const elicitation = capabilities?.elicitation as { form?: unknown; url?: unknown } | undefined;
      if (!elicitation) return { answer: { action: "decline" } };
      // An empty elicitation capability means form mode (2025-06-18 clients declare `{}`).
      const url = ask.params?.mode === "url";
      if (url && elicitation.url === undefined) return { answer: { action: "decline" } };
      if (!url && elicitation.form === undefined && elicitation.url !== undefined) return { answer: { action: "decline" } };
      return null;
    }
    case "roots/list":
      return capabilities?.roots ? null : { answer: { roots: [] } };
    case "sampling/createMessage":
      return capabilities?.sampling ? null : { refuse: `${connection} asked your client to sample its model (sampling/createMessage), and your client does not offer sampling` };
  }
}
