import type { UpstreamSecret } from "../secret.ts";
import { bearer } from "./bearer.ts";
import { header } from "./header.ts";
import { idJag } from "./id-jag.ts";
import { AUTH_KIND_IDS, type AuthKindId } from "./list.ts";
import { none } from "./none.ts";
import { oauth } from "./oauth.ts";
import type { AuthKindModule } from "./types.ts";
import { url } from "./url.ts";

/**
 * Every upstream auth kind's module, by id. The JSON API's parser, the dashboard's form reader,
 * the Add server and Re-authorize fields, the catalog's sign-ins, the upstream headers and the
 * redaction set are all built from it. Adding a kind: its module, one line here, and its id in
 * list.ts (the database enum), which this object's type then demands.
 */
const BY_ID = {
  none,
  bearer,
  header,
  url,
  oauth,
  "id-jag": idJag,
} satisfies { [K in AuthKindId]: AuthKindModule<{ kind: K }, UpstreamSecret> };

/** What a connection is added or re-authorized with: one kind's input. */
export type AuthInput = { [K in AuthKindId]: Parameters<(typeof BY_ID)[K]["check"]>[0] }[AuthKindId];

/** Any kind's module, seen through the interface every kind shares. */
export type AnyAuthKind = AuthKindModule<AuthInput, UpstreamSecret>;

/** In the order forms offer them (list.ts's order). */
export const AUTH_KINDS: readonly AnyAuthKind[] = AUTH_KIND_IDS.map((id) => authKindFor(id));

export function authKindFor(id: AuthKindId): AnyAuthKind {
  // One cast, here: each module takes its own kind's input, and callers pass it the input of that kind.
  return BY_ID[id] as AnyAuthKind;
}

export function isAuthKind(value: unknown): value is AuthKindId {
  return typeof value === "string" && Object.hasOwn(BY_ID, value);
}

/**
 * The kinds a person can paste a credential for (re-authorizing a token connection); OAuth and
 * ID-JAG are authorized through a provider instead.
 */
export function pastedAuthKinds(): AnyAuthKind[] {
  return AUTH_KINDS.filter((kind) => kind.pasted);
}

/** "Choose an authentication: none, a bearer token, … or enterprise-managed (ID-JAG)." */
export function chooseAuthMessage(kinds: readonly AnyAuthKind[] = AUTH_KINDS): string {
  const phrases = kinds.map((kind) => kind.phrase);
  const list = phrases.length > 1 ? `${phrases.slice(0, -1).join(", ")} or ${phrases.at(-1)}` : (phrases[0] ?? "");
  return `Choose an authentication: ${list}.`;
}

/** The API's wording: auth.kind must be "none", "bearer", … or "id-jag". */
export function authKindApiMessage(): string {
  const quoted = AUTH_KINDS.map((kind) => JSON.stringify(kind.id));
  return `auth.kind must be ${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}
