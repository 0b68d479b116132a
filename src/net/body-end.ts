/**
 * The same bytes, with `onEnd` called when the body is read to its end, fails, or is cancelled —
 * however the reader stops, so whatever the stream holds (a stream slot, an open-request place) is
 * given back. `onEnd` may be called more than once only if it is also called from elsewhere: make it
 * idempotent.
 */
export function onBodyEnd(source: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          onEnd();
          controller.close();
          return;
        }
        controller.enqueue(value);
      } catch (error) {
        onEnd();
        controller.error(error);
      }
    },
    cancel(reason) {
      onEnd();
      return reader.cancel(reason);
    },
  });
}
