/**
 * Where the gateway sends a browser next: a redirect's Location, or the destination of the page
 * that answers a form POST bound for another origin (src/web/continue-to.tsx). Null otherwise.
 */
export async function nextLocation(response: Response): Promise<string | null> {
  if (response.status >= 300 && response.status < 400) return response.headers.get("location");
  if (response.status !== 200 || !(response.headers.get("content-type") ?? "").startsWith("text/html")) return null;
  const match = (await response.clone().text()).match(/<meta http-equiv="refresh" content="0;url=([^"]*)"/);
  return match ? match[1]!.replaceAll("&#34;", '"').replaceAll("&amp;", "&") : null;
}
