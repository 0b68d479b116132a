import type { AuthInput } from "./service.ts";
import { authKindApiMessage, chooseAuthMessage, isAuthKind, type AuthKind } from "./auth-kinds/kinds.ts";

/** What the dashboard's connection forms and the JSON API post, read into service input. */

export type { AuthKind } from "./auth-kinds/kinds.ts";

/** The fields a credential is made of; the dashboard names ID-JAG's client apart from OAuth's. */
type AuthField = "token" | "header" | "value" | "key" | "clientId" | "clientSecret" | "idjagClientId" | "idjagClientSecret";

/** One reader for every kind, shared by the form and the API: a kind added to the list must be read here. */
function authInputFor(kind: AuthKind, field: (name: AuthField) => string): AuthInput {
  switch (kind) {
    case "none":
      return { kind: "none" };
    case "bearer":
      return { kind: "bearer", token: field("token") };
    case "header":
      return { kind: "header", header: field("header").trim(), value: field("value") };
    case "url":
      return { kind: "url", key: field("key") };
    case "oauth":
      return { kind: "oauth", clientId: field("clientId").trim() || undefined, clientSecret: field("clientSecret") || undefined };
    case "id-jag":
      return { kind: "id-jag", clientId: field("idjagClientId").trim(), clientSecret: field("idjagClientSecret") };
  }
}

export function readAuthForm(form: Record<string, string>): AuthInput | { kind: "invalid"; message: string } {
  const kind = form.auth ?? "none";
  if (!isAuthKind(kind)) return { kind: "invalid", message: chooseAuthMessage() };
  return authInputFor(kind, (name) => form[name] ?? "");
}

/** The API's `auth` object; ID-JAG's client is `clientId`/`clientSecret` there. */
export function readAuthJson(value: unknown): AuthInput | { invalid: string } {
  if (value === undefined) return { kind: "none" };
  if (typeof value !== "object" || value === null) return { invalid: 'auth must be an object like { "kind": "none" }' };
  const auth = value as Record<string, unknown>;
  if (!isAuthKind(auth.kind)) return { invalid: authKindApiMessage() };
  const str = (v: unknown): string => (typeof v === "string" ? v : "");
  const renamed: Partial<Record<AuthField, string>> = { idjagClientId: "clientId", idjagClientSecret: "clientSecret" };
  return authInputFor(auth.kind, (name) => str(auth[renamed[name] ?? name]));
}

/** An empty field means "the gateway's default"; anything else must be a whole number. */
export function readTimeoutForm(value: string | undefined): number | null {
  const trimmed = (value ?? "").trim();
  if (trimmed === "") return null;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : Number.NaN;
}
