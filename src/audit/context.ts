import { AsyncLocalStorage } from "node:async_hooks";
import type { Principal } from "../accounts/principal.ts";

/**
 * Who is acting and from where, for the audit trail. Services never see the request (STYLE.md), yet
 * every admin action must name its actor and client: the app opens this context for each request
 * (app.ts), the guards fill in the actor once they know it (web/plugin.ts), and `recordAudit` reads
 * it. Outside a request (the CLI, background work) there is none, and the actor is "system".
 */
export type AuditOrigin = { actor: string | null; ip: string | null; userAgent: string | null };

const current = new AsyncLocalStorage<AuditOrigin>();

/** The longest user agent kept: enough to tell clients apart, never a page of text. */
const USER_AGENT_MAX = 200;

export function withAuditOrigin<T>(request: Request, ip: string | null, fn: () => T): T {
  const userAgent = request.headers.get("user-agent")?.slice(0, USER_AGENT_MAX) ?? null;
  return current.run({ actor: null, ip: ip && ip !== "unknown" ? ip : null, userAgent }, fn);
}

/** Called by the guards once the caller is known; the rest of the request acts as them. */
export function noteAuditActor(actor: string): void {
  const origin = current.getStore();
  if (origin) origin.actor = actor;
}

export function currentAuditOrigin(): AuditOrigin | undefined {
  return current.getStore();
}

/** "user:<id>", with the key or OAuth grant it used: "user:<id>/api_key:<id>". */
export function actorOf(principal: Principal): string {
  const user = `user:${principal.userId}`;
  return principal.credential.kind === "session" ? user : `${user}/${principal.credential.kind}:${principal.credential.id}`;
}
