import type { FieldErrors } from "../checks.ts";
import { hasUrlKeyPlaceholder, type UpstreamSecret } from "../secret.ts";
import type { AuthKindId } from "./list.ts";
import { authKindFor, chooseAuthMessage, isAuthKind, type AuthInput } from "./registry.ts";

/** What the services ask of an auth input, whatever its kind: each answer comes from the kind's module. */

/** Field messages for input that cannot be used; empty when it can. */
export function checkAuthInput(auth: AuthInput): FieldErrors {
  if (!isAuthKind(auth.kind)) return { auth: chooseAuthMessage() };
  return authKindFor(auth.kind).check(auth);
}

/** `{key}` in the URL goes with a key-in-URL credential, and only with it. */
export function checkUrlKey(url: string, kind: AuthKindId): string | null {
  const placeholder = hasUrlKeyPlaceholder(url);
  const keyInUrl = isAuthKind(kind) && authKindFor(kind).keyInUrl === true;
  if (keyInUrl && !placeholder) return "Put {key} in the URL where the API key goes, e.g. https://mcp.firecrawl.dev/{key}/v2/mcp.";
  if (!keyInUrl && placeholder) return "The URL has {key} in it: choose the key-in-URL authentication, or remove it.";
  return null;
}

/** What gets sealed for this input, or null when nothing is stored yet. */
export function toSecret(auth: AuthInput): UpstreamSecret | null {
  return authKindFor(auth.kind).toSecret(auth);
}

/** A per-member connection may be added without the admin's own credential (members bring theirs). */
export function isEmptyAuth(auth: AuthInput): boolean {
  return isAuthKind(auth.kind) && (authKindFor(auth.kind).isEmpty?.(auth) ?? false);
}

/** The header name the connection row keeps, if the kind has one. */
export function storedAuthHeader(auth: AuthInput): string | null {
  return authKindFor(auth.kind).storedHeader?.(auth) ?? null;
}

/** A member's own pasted value on a per-member connection, as the input its kind takes; null when members do not paste one. */
export function memberAuthInput(connection: { authKind: AuthKindId; authHeader: string | null }, value: string): AuthInput | null {
  return authKindFor(connection.authKind).memberInput?.(value, connection) ?? null;
}
