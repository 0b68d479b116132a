import type { HoldLimits } from "../config.ts";
import { credentialId, type Principal } from "../accounts/principal.ts";
import { onBodyEnd } from "../net/body-end.ts";

/**
 * Caps on what one caller can hold open at the MCP endpoint (2025 sessions, 2025 GET streams and
 * 2026 `subscriptions/listen` streams), per key, per member and in all, per replica. Each held thing
 * costs memory and a socket for as long as the client likes; without caps one key could hold them all.
 */

export type Scope = "key" | "user" | "total";
export type Holder = { key: string; user: string };

const WHO: Record<Scope, string> = { key: "This key", user: "Your account", total: "The gateway" };
const SETTING: Record<"sessions" | "streams", Record<Scope, string>> = {
  sessions: { key: "MAX_SESSIONS_PER_KEY", user: "MAX_SESSIONS_PER_USER", total: "MAX_SESSIONS" },
  streams: { key: "MAX_STREAMS_PER_KEY", user: "MAX_STREAMS_PER_USER", total: "MAX_STREAMS" },
};
// A stream ends when its client goes; a session when it idles out (SESSION_IDLE_MS) or is deleted.
const RETRY_AFTER_SECONDS = { sessions: 60, streams: 30 };

/** Who holds a thing: the key (an OAuth grant stands in for one) and the member. */
export function holderOf(principal: Principal): Holder {
  return { key: credentialId(principal.credential) ?? `user:${principal.userId}`, user: principal.userId };
}

/** The first cap one more would pass, or null when there is room. */
export function passedCap(held: Record<Scope, number>, limits: HoldLimits): Scope | null {
  if (held.key >= limits.perKey) return "key";
  if (held.user >= limits.perUser) return "user";
  if (held.total >= limits.total) return "total";
  return null;
}

/** Open notification streams, counted per key, per member and in all. */
export class StreamSlots {
  private readonly byKey = new Map<string, number>();
  private readonly byUser = new Map<string, number>();
  private total = 0;

  constructor(readonly limits: HoldLimits) {}

  get held(): number {
    return this.total;
  }

  /** A slot and the one way to give it back, or the cap that refuses it. */
  take(holder: Holder): { release(): void } | { refused: Scope } {
    const refused = passedCap({ key: this.byKey.get(holder.key) ?? 0, user: this.byUser.get(holder.user) ?? 0, total: this.total }, this.limits);
    if (refused) return { refused };
    this.adjust(holder, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.adjust(holder, -1);
      },
    };
  }

  private adjust(holder: Holder, by: 1 | -1): void {
    this.total += by;
    bump(this.byKey, holder.key, by);
    bump(this.byUser, holder.user, by);
  }
}

function bump(counts: Map<string, number>, id: string, by: number): void {
  const next = (counts.get(id) ?? 0) + by;
  if (next <= 0) counts.delete(id);
  else counts.set(id, next);
}

/** 429 with a sentence that says which cap, and when to try again. */
export function tooMany(what: "sessions" | "streams", scope: Scope, limits: HoldLimits): Response {
  const limit = scope === "key" ? limits.perKey : scope === "user" ? limits.perUser : limits.total;
  const noun = what === "streams" ? `${limit} open streams` : `${limit} sessions`;
  const advice =
    scope === "total"
      ? "Try again later."
      : what === "streams"
        ? "Close one, or wait for one to end, and try again."
        : "Close one (DELETE it), and try again.";
  const message = `${WHO[scope]} already holds ${noun}, the most allowed (${SETTING[what][scope]}). ${advice}`;
  return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message } }, { status: 429, headers: { "retry-after": String(RETRY_AFTER_SECONDS[what]) } });
}

/**
 * The response, whose stream gives its slot back when it ends: the client goes away (the request's
 * signal), the client cancels the body, or the server ends the stream (a session closed).
 */
export function releaseWhenClosed(response: Response, signal: AbortSignal, release: () => void): Response {
  const source = response.body;
  if (!source || response.status !== 200) {
    release();
    return response;
  }
  const done = (): void => {
    signal.removeEventListener("abort", done);
    release();
  };
  signal.addEventListener("abort", done, { once: true });
  return new Response(onBodyEnd(source, done), response);
}
