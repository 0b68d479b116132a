/** Statuses whose Retry-After asks a client to stay away for a while (RFC 9110 §10.2.3). */
const HONOURED = new Set([429, 503]);
/** A longer wish is held to this: past it, the pause and the background checks take over. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** When an answer asks not to be called again, as epoch ms, or null. Seconds or an HTTP date. */
export function retryAfterUntil(status: number, header: string | null, now: number): number | null {
  if (!HONOURED.has(status) || header === null) return null;
  const value = header.trim();
  let until: number;
  if (/^\d+$/.test(value)) until = now + Number(value) * 1000;
  else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return null;
    until = date;
  }
  if (until <= now) return null;
  return Math.min(until, now + MAX_RETRY_AFTER_MS);
}

/**
 * Per connection, the time before which its upstream asked not to be called (held in this
 * process: each replica honours what its own requests were told).
 */
export class RetryAfterWindows {
  private readonly until = new Map<string, { at: number; status: number }>();

  note(connectionId: string, at: number, status: number): void {
    const current = this.until.get(connectionId);
    if (!current || current.at < at) this.until.set(connectionId, { at, status });
  }

  /** The window in force at `now`, or null (a past one is forgotten). */
  active(connectionId: string, now: number): { at: number; status: number } | null {
    const window = this.until.get(connectionId);
    if (!window) return null;
    if (window.at > now) return window;
    this.until.delete(connectionId);
    return null;
  }
}
