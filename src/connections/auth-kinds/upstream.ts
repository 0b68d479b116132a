import type { UpstreamSecret } from "../secret.ts";
import { authKindFor, isAuthKind } from "./registry.ts";

/** Where a stored secret travels upstream, and what of it redaction must remove: each kind's module says. */

/** Headers that carry a static secret upstream (OAuth and ID-JAG tokens go through the SDK's auth provider). */
export function credentialHeaders(secret: UpstreamSecret | null): Record<string, string> {
  if (!secret || !isAuthKind(secret.kind)) return {};
  return authKindFor(secret.kind).headers?.(secret) ?? {};
}

/** The URL actually requested: the stored URL, with the secret put in it if its kind travels there. */
export function upstreamUrl(url: string, secret: UpstreamSecret | null): string {
  if (!secret || !isAuthKind(secret.kind)) return url;
  return authKindFor(secret.kind).requestUrl?.(url, secret) ?? url;
}

/** Every value in a stored secret that the upstream (or its authorization server) saw. */
export function secretValues(secret: UpstreamSecret | null): string[] {
  if (!secret || !isAuthKind(secret.kind)) return [];
  return authKindFor(secret.kind).secretValues(secret);
}
