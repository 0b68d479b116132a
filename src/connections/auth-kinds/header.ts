import { z } from "zod";
import type { FieldErrors } from "../checks.ts";
import { CONTROL, HEADER_NAME } from "./checks.ts";
import type { AuthKindModule, ReadField } from "./types.ts";

export type HeaderInput = { kind: "header"; header: string; value: string };
type HeaderSecret = { kind: "header"; header: string; value: string };

// Headers the transport owns; a credential may not replace them.
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "accept", "connection", "transfer-encoding", "mcp-session-id", "mcp-protocol-version", "cookie"]);

function parseHeader(field: ReadField): HeaderInput {
  return { kind: "header", header: field("header").trim(), value: field("value") };
}

function checkHeader(input: HeaderInput): FieldErrors {
  const errors: FieldErrors = {};
  if (!HEADER_NAME.test(input.header)) errors.header = "Give a header name such as X-API-Key (letters, digits and dashes).";
  else if (RESERVED_HEADERS.has(input.header.toLowerCase())) errors.header = `${input.header} is set by the gateway itself; use another header.`;
  if (!input.value.trim()) errors.value = "Paste the header's value.";
  else if (CONTROL.test(input.value)) errors.value = "The value has control characters; paste it without them.";
  return errors;
}

/** A secret in a header the server names (X-API-Key and the like); the header's name is kept in the row. */
export const header: AuthKindModule<HeaderInput, HeaderSecret> = {
  id: "header",
  label: "Custom header",
  phrase: "a custom header",
  pasted: true,
  formFields: {
    className: "auth-header",
    inputs: [
      { id: "auth-header", name: "header", label: "Header name", placeholder: "X-API-Key", keep: "header" },
      { id: "auth-value", name: "value", label: "Header value", secret: true },
    ],
  },
  parseForm: parseHeader,
  parseJson: parseHeader,
  check: checkHeader,
  toSecret: (input) => ({ kind: "header", header: input.header, value: input.value.trim() }),
  secretValues: (secret) => [secret.value],
  headers: (secret) => ({ [secret.header]: secret.value }),
  storedHeader: (input) => input.header,
  isEmpty: (input) => !input.value.trim() && HEADER_NAME.test(input.header),
  memberInput: (value, connection) => ({ kind: "header", header: connection.authHeader ?? "", value }),
  catalogSignIn: {
    header: z.string().regex(HEADER_NAME, "must be a header name"),
    label: z.string().trim().min(1).max(80),
    help: z.string().trim().min(1).max(300).optional(),
  },
};
