import { z } from "zod";
import type { FieldErrors } from "../checks.ts";
import { operatorClient, toOAuthSecret } from "../../upstream/oauth/data.ts";
import { CONTROL } from "./checks.ts";
import type { AuthKindModule, ReadField } from "./types.ts";

/** Authorized afterwards by a person (Connect); optionally with a client the operator registered. */
export type OAuthInput = { kind: "oauth"; clientId?: string; clientSecret?: string };
type OAuthSecret = { kind: "oauth"; data: Record<string, unknown> };

function parseOAuth(field: ReadField): OAuthInput {
  return { kind: "oauth", clientId: field("clientId").trim() || undefined, clientSecret: field("clientSecret") || undefined };
}

function checkOAuth(input: OAuthInput): FieldErrors {
  if (input.clientSecret && !input.clientId) return { clientId: "Give the client ID that goes with the client secret." };
  if (input.clientId !== undefined && (input.clientId.length > 512 || CONTROL.test(input.clientId))) return { clientId: "That does not look like a client ID." };
  return {};
}

function oauthSecretValues(secret: OAuthSecret): string[] {
  const data = secret.data as { tokens?: Record<string, unknown>; client?: Record<string, unknown> };
  const values = [data.tokens?.access_token, data.tokens?.refresh_token, data.tokens?.id_token, data.client?.client_secret];
  return values.filter((v): v is string => typeof v === "string");
}

/**
 * MCP OAuth: nothing is pasted; a person approves access at the provider, and the tokens travel
 * through the SDK's auth provider (upstream/oauth/), never as a static header.
 */
export const oauth: AuthKindModule<OAuthInput, OAuthSecret> = {
  id: "oauth",
  label: "OAuth",
  phrase: "OAuth",
  pasted: false,
  formFields: {
    className: "auth-oauth",
    intro: [
      "After adding, Connect opens the provider to approve access. The gateway identifies itself (client metadata document on https, else dynamic registration) unless you give a client registered with the provider:",
    ],
    inputs: [
      { id: "auth-client-id", name: "clientId", label: "Client ID (optional)" },
      { id: "auth-client-secret", name: "clientSecret", label: "Client secret (optional)", secret: true, errorField: null },
    ],
  },
  parseForm: parseOAuth,
  parseJson: parseOAuth,
  check: checkOAuth,
  // Only a client the operator registered is stored at first; the tokens come with Connect.
  toSecret: (input) => (input.clientId ? (toOAuthSecret(operatorClient(input.clientId.trim(), input.clientSecret?.trim())) as OAuthSecret) : null),
  secretValues: oauthSecretValues,
  catalogSignIn: { clientRequired: z.boolean().optional(), help: z.string().trim().min(1).max(300).optional() },
};
