/**
 * Every way the gateway can authenticate to an upstream, by id. A leaf (it imports nothing): the
 * database schema's enum and the auth-kind modules are both built from it.
 */
export const AUTH_KIND_IDS = ["none", "bearer", "header", "url", "oauth", "id-jag"] as const;

export type AuthKindId = (typeof AUTH_KIND_IDS)[number];
