import { createUpstreamHandler, type UpstreamHandler } from "./upstream.ts";

export type KeyedUpstream = {
  /** The URL with the key in it: http://127.0.0.1:PORT/KEY/v2/mcp */
  url: string;
  /** The URL with `{key}` where the key goes, as a connection stores it. */
  template: string;
  /** Every request path the server received (a key in the URL shows up here). */
  seen: string[];
  inner: UpstreamHandler;
  stop(): Promise<void>;
};

/** An upstream that, like Firecrawl, takes its API key as the first path segment: /KEY/v2/mcp. */
export function startKeyInPathUpstream(key: string, tools: string[] = ["echo"]): KeyedUpstream {
  const inner = createUpstreamHandler({ tools, name: "keyed-path" });
  const seen: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      seen.push(url.pathname);
      if (url.pathname !== `/${key}/v2/mcp`) return new Response("unknown key", { status: 401 });
      url.pathname = "/mcp";
      return inner.fetch(new Request(url, request));
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    url: `${base}/${key}/v2/mcp`,
    template: `${base}/{key}/v2/mcp`,
    seen,
    inner,
    async stop() {
      await server.stop(true);
      await inner.close();
    },
  };
}
