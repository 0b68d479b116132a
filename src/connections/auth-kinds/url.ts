import { z } from "zod";
import type { FieldErrors } from "../checks.ts";
import { URL_KEY_FORMS } from "../secret.ts";
import { isPastable } from "./checks.ts";
import type { AuthKindModule, ReadField } from "./types.ts";

export type UrlKeyInput = { kind: "url"; key: string };
type UrlKeySecret = { kind: "url"; key: string };

function parseUrlKey(field: ReadField): UrlKeyInput {
  return { kind: "url", key: field("key") };
}

function checkUrlKey(input: UrlKeyInput): FieldErrors {
  if (!input.key.trim()) return { key: "Paste the API key that goes into the URL." };
  if (!isPastable(input.key)) return { key: "The key has spaces or control characters; paste it without them." };
  return {};
}

/** The stored URL with the key put in place of `{key}`; the stored and displayed URL keep the placeholder. */
function withKey(url: string, secret: UrlKeySecret): string {
  let result = url;
  for (const form of URL_KEY_FORMS) result = result.split(form).join(encodeURIComponent(secret.key));
  return result;
}

/** An API key the server takes inside its URL, where the URL has `{key}` (Firecrawl does this). */
export const url: AuthKindModule<UrlKeyInput, UrlKeySecret> = {
  id: "url",
  label: "Key in the URL",
  phrase: "a key in the URL",
  pasted: true,
  formFields: {
    className: "auth-urlkey",
    inputs: [
      {
        id: "auth-key",
        name: "key",
        label: "API key",
        secret: true,
        hint: {
          id: "key-help",
          text: [
            "Put ",
            { code: "{key}" },
            " in the server URL where the key goes, e.g. ",
            { code: "https://mcp.firecrawl.dev/{key}/v2/mcp" },
            ". The key is stored encrypted, never in the stored URL, and never shown again.",
          ],
        },
      },
    ],
  },
  parseForm: parseUrlKey,
  parseJson: parseUrlKey,
  check: checkUrlKey,
  toSecret: (input) => ({ kind: "url", key: input.key.trim() }),
  secretValues: (secret) => [secret.key],
  requestUrl: withKey,
  keyInUrl: true,
  isEmpty: (input) => !input.key.trim(),
  memberInput: (value) => ({ kind: "url", key: value }),
  catalogSignIn: { label: z.string().trim().min(1).max(80), help: z.string().trim().min(1).max(300).optional() },
};
