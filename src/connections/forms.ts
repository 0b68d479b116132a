import { authKindApiMessage, authKindFor, chooseAuthMessage, isAuthKind, type AuthInput } from "./auth-kinds/registry.ts";

/** What the dashboard's connection forms and the JSON API post, read into service input. */

/** The Add server and Re-authorize forms: the checked radio's kind reads its own fields. */
export function readAuthForm(form: Record<string, string>): AuthInput | { kind: "invalid"; message: string } {
  const kind = form.auth ?? "none";
  if (!isAuthKind(kind)) return { kind: "invalid", message: chooseAuthMessage() };
  return authKindFor(kind).parseForm((name) => form[name] ?? "");
}

/** The API's `auth` object; absent means no credential. */
export function readAuthJson(value: unknown): AuthInput | { invalid: string } {
  if (value === undefined) return { kind: "none" };
  if (typeof value !== "object" || value === null) return { invalid: 'auth must be an object like { "kind": "none" }' };
  const auth = value as Record<string, unknown>;
  if (!isAuthKind(auth.kind)) return { invalid: authKindApiMessage() };
  return authKindFor(auth.kind).parseJson((name) => (typeof auth[name] === "string" ? (auth[name] as string) : ""));
}

/** An empty field means "the gateway's default"; anything else must be a whole number. */
export function readTimeoutForm(value: string | undefined): number | null {
  const trimmed = (value ?? "").trim();
  if (trimmed === "") return null;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : Number.NaN;
}
