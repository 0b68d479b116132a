import { z } from "zod";
import type { FieldErrors } from "../checks.ts";
import { isPastable } from "./checks.ts";
import type { AuthKindModule, ReadField } from "./types.ts";

export type BearerInput = { kind: "bearer"; token: string };
type BearerSecret = { kind: "bearer"; token: string };

function parseBearer(field: ReadField): BearerInput {
  return { kind: "bearer", token: field("token") };
}

function checkBearer(input: BearerInput): FieldErrors {
  if (!input.token.trim()) return { token: "Paste the API key or token the server expects." };
  if (!isPastable(input.token)) return { token: "The token has spaces or control characters; paste it without them." };
  return {};
}

/** An API key or token sent as `Authorization: Bearer <token>`. */
export const bearer: AuthKindModule<BearerInput, BearerSecret> = {
  id: "bearer",
  label: "API key or token",
  phrase: "a bearer token",
  pasted: true,
  formFields: {
    className: "auth-token",
    inputs: [
      {
        id: "auth-token",
        name: "token",
        label: "Token",
        secret: true,
        hint: { id: "token-help", text: ["Sent as ", { code: "Authorization: Bearer …" }, ". Stored encrypted; never shown again."] },
      },
    ],
  },
  parseForm: parseBearer,
  parseJson: parseBearer,
  check: checkBearer,
  toSecret: (input) => ({ kind: "bearer", token: input.token.trim() }),
  secretValues: (secret) => [secret.token],
  headers: (secret) => ({ authorization: `Bearer ${secret.token}` }),
  isEmpty: (input) => !input.token.trim(),
  memberInput: (value) => ({ kind: "bearer", token: value }),
  catalogSignIn: { label: z.string().trim().min(1).max(80), help: z.string().trim().min(1).max(300).optional() },
};
