import { collectSoon, type BytesInFlight } from "./bytes-in-flight.ts";

/**
 * How much of a response the gateway will hold, and for how long: enforced on the bytes as they
 * arrive, so a server that answers 50 MB, or never stops, costs what the budget says and no more.
 */
export type ResponseBudget = {
  /** The most bytes a body may carry (after decompression: that is what memory holds). */
  maxBytes: number;
  /**
   * From sending the request to the end of its body; null where the caller bounds the time itself
   * (an MCP call's own deadline). For a stream read per event, only until its headers arrive.
   */
  deadlineMs: number | null;
  /**
   * "per-event": an event stream is bounded per event instead of in all. For a stream that lives
   * long (an MCP listen stream): its reader holds one event at a time, however many pass.
   */
  eventStreams?: "whole" | "per-event";
  /**
   * Shared by every answer read with it: a body read in all (not per event) and without a declared
   * length takes its bytes from here as they arrive and gives them back when it ends.
   */
  inFlight?: BytesInFlight;
};

/**
 * What a fetch may hold when its caller names no budget: OAuth and OpenID metadata, JWKS and token
 * answers are a few KiB; 1 MiB leaves room for a large JWKS and stops a flood early. 15 s: longer
 * than any healthy authorization server needs, short enough that a stalled one frees its socket.
 */
export const DEFAULT_RESPONSE_BUDGET: ResponseBudget = { maxBytes: 1024 * 1024, deadlineMs: 15_000 };

export class ResponseTooLarge extends Error {
  override name = "ResponseTooLarge";

  constructor(readonly maxBytes: number) {
    super(`the answer was larger than ${formatBytes(maxBytes)} and was cut off`);
  }
}

/** The answer would have taken the bytes held for all answers read at once past their budget. */
export class AnswersInFlightFull extends ResponseTooLarge {
  override name = "AnswersInFlightFull";

  constructor(readonly limit: number) {
    super(limit);
    this.message = `the gateway was already holding ${formatBytes(limit)} of answers being read, so this one was cut off`;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** A stream read per event: its deadline covers the headers only. */
export function isReadPerEvent(response: Response, budget: ResponseBudget): boolean {
  return budget.eventStreams === "per-event" && (response.headers.get("content-type") ?? "").includes("text/event-stream");
}

/**
 * The response with its body held to the budget. Throws ResponseTooLarge at once when the declared
 * length is already over; otherwise the body's reader gets it as soon as one byte too many arrived,
 * and the connection is closed (the rest is never read). `onEnd` runs once the body is done with.
 */
export function holdToBudget(response: Response, budget: ResponseBudget, onEnd: (reason?: unknown) => void): Response {
  const source = response.body;
  if (source === null) {
    onEnd();
    return response;
  }
  const perEvent = isReadPerEvent(response, budget);
  // Bun unpacks gzip/deflate/br bodies, whose Content-Length counts the packed bytes.
  const encoding = response.headers.get("content-encoding");
  const declared = encoding === null || encoding === "identity" ? contentLength(response) : null;
  if (declared !== null && declared > budget.maxBytes) {
    const error = new ResponseTooLarge(budget.maxBytes);
    void source.cancel(error).catch(() => undefined);
    onEnd(error);
    throw error;
  }
  // A declared length within the budget bounds the body already (HTTP framing ends it there): the
  // common single JSON answer needs no counting stream. The deadline, if any, still aborts it.
  if (declared !== null && !perEvent) return response;
  const count = perEvent ? eventCounter() : wholeCounter();
  const shared = perEvent ? undefined : budget.inFlight;
  let taken = 0;
  const reader = source.getReader();
  let ended = false;
  const end = (reason?: unknown): void => {
    if (ended) return;
    ended = true;
    shared?.give(taken);
    taken = 0;
    if (reason instanceof ResponseTooLarge) collectSoon();
    onEnd(reason);
  };
  const cut = (controller: ReadableStreamDefaultController<Uint8Array>, error: ResponseTooLarge): void => {
    controller.error(error);
    void reader.cancel(error).catch(() => undefined);
    end(error);
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          end();
          return;
        }
        if (count(value) > budget.maxBytes) {
          cut(controller, new ResponseTooLarge(budget.maxBytes));
          return;
        }
        if (shared !== undefined) {
          if (!shared.take(value.byteLength)) {
            cut(controller, new AnswersInFlightFull(shared.limit));
            return;
          }
          taken += value.byteLength;
        }
        controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        end(error);
      }
    },
    cancel(reason) {
      end(reason);
      return reader.cancel(reason);
    },
  });
  return new Response(body, response);
}

function contentLength(response: Response): number | null {
  const value = response.headers.get("content-length");
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/** Counters take each chunk and return the most bytes held at once so far. */
function wholeCounter(): (chunk: Uint8Array) => number {
  let held = 0;
  return (chunk) => (held += chunk.byteLength);
}

/**
 * Bytes of the event being read: an event ends at a blank line, and lines end with CRLF, LF or CR
 * (the SSE grammar). A chunk may end an event and start the next: the peak within it counts.
 */
function eventCounter(): (chunk: Uint8Array) => number {
  let held = 0;
  let lineBytes = 0;
  let afterCr = false;
  return (chunk) => {
    let peak = held;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === 10 && afterCr) {
        afterCr = false;
        continue;
      }
      afterCr = byte === 13;
      if (byte === 10 || byte === 13) {
        if (lineBytes === 0) held = 0;
        else held++;
        lineBytes = 0;
      } else {
        lineBytes++;
        held++;
      }
      if (held > peak) peak = held;
    }
    return peak;
  };
}
