/**
 * The plainest load balancer: each request goes to the next replica in turn, no stickiness, the
 * body streamed both ways. It counts what it forwarded, so a test can wait for a request to have
 * been answered without sleeping.
 */
export type RoundRobin = {
  url: string;
  /** GET requests to the MCP endpoint whose response headers came back, by status. */
  getStreams: number[];
  stop(): Promise<void>;
};

export function startRoundRobin(replicas: string[]): RoundRobin {
  let next = 0;
  const getStreams: number[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // SSE streams stay open between events.
    idleTimeout: 0,
    async fetch(request) {
      const target = replicas[next++ % replicas.length]!;
      const incoming = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.delete("host");
      const response = await fetch(`${target}${incoming.pathname}${incoming.search}`, {
        method: request.method,
        headers,
        ...(request.method === "GET" || request.method === "HEAD" ? {} : { body: await request.arrayBuffer() }),
        signal: request.signal,
        redirect: "manual",
        decompress: false,
      } as RequestInit);
      if (request.method === "GET" && incoming.pathname === "/api/v1/mcp") getStreams.push(response.status);
      return new Response(response.body, response);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    getStreams,
    async stop() {
      await server.stop(true);
    },
  };
}
