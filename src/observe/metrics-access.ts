import { isIP } from "node:net";
import { tokensEqual } from "../crypto/tokens.ts";

export const METRICS_PATH = "/metrics";

export type MetricsAccess = { ok: true } | { ok: false; status: 401 | 403; message: string };

/**
 * Who may read /metrics. The metrics name connections and tools and show the gateway's load, so
 * they are not public: with METRICS_TOKEN set, a request must carry it as a bearer token (from
 * anywhere, under any Host, since Prometheus scrapes by address); without one, only a loopback peer
 * (a scraper or sidecar on the same machine) may read them. The peer is the socket's: behind a
 * reverse proxy on the same machine every request looks local, so set METRICS_TOKEN there. Without
 * a token the Host check still applies (app.ts), so a rebound name in a local browser gets nothing.
 */
export function checkMetricsAccess(request: { token: string | null; authorization: string | null; peer: string }): MetricsAccess {
  if (request.token !== null) {
    const sent = request.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null;
    if (sent !== null && tokensEqual(sent, request.token)) return { ok: true };
    return { ok: false, status: 401, message: "Send the metrics token (METRICS_TOKEN) as Authorization: Bearer …" };
  }
  if (isLoopbackAddress(request.peer)) return { ok: true };
  return { ok: false, status: 403, message: "Metrics are served to loopback clients only. Set METRICS_TOKEN to scrape from elsewhere." };
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback (a dual-stack socket reports ::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string): boolean {
  const unmapped = address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
  if (isIP(unmapped) === 4) return unmapped.startsWith("127.");
  return isIP(unmapped) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(unmapped);
}
