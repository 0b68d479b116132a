import type { AuthInput } from "./service.ts";

/** What the dashboard's connection forms post, read into service input. */

export type AuthKind = "none" | "bearer" | "header" | "oauth" | "id-jag";

export function readAuthForm(form: Record<string, string>): AuthInput | { kind: "invalid" } {
  switch (form.auth ?? "none") {
    case "none":
      return { kind: "none" };
    case "bearer":
      return { kind: "bearer", token: form.token ?? "" };
    case "header":
      return { kind: "header", header: (form.header ?? "").trim(), value: form.value ?? "" };
    case "oauth":
      return { kind: "oauth", clientId: (form.clientId ?? "").trim() || undefined, clientSecret: form.clientSecret || undefined };
    case "id-jag":
      return { kind: "id-jag", clientId: (form.idjagClientId ?? "").trim(), clientSecret: form.idjagClientSecret ?? "" };
    default:
      return { kind: "invalid" };
  }
}

/** An empty field means "the gateway's default"; anything else must be a whole number. */
export function readTimeoutForm(value: string | undefined): number | null {
  const trimmed = (value ?? "").trim();
  if (trimmed === "") return null;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : Number.NaN;
}
