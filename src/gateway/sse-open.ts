const OPENING = new TextEncoder().encode(": stream open\n\n");

/**
 * An event stream that begins with a comment. Bun sends a streamed response's headers with its
 * first bytes, and the SDK writes none to a GET stream until an event or its first keep-alive
 * (15 s): the client (and a load balancer's first-byte timeout) would wait that long to learn
 * the stream is open. A comment is ignored by every SSE reader.
 */
export function openAtOnce(response: Response): Response {
  const source = response.body;
  if (!source || response.status !== 200 || !response.headers.get("content-type")?.includes("text/event-stream")) return response;
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(OPENING);
    },
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, response);
}
