import { SdkError, SdkErrorCode } from "@modelcontextprotocol/client";
import { AnswersInFlightFull, formatBytes, type ResponseTooLarge } from "../net/response-budget.ts";

/** Tags one outbound request so that its answer stream can be watched; stripped before sending. */
export const WATCH_HEADER = "x-mcp-gateway-watch";

/** How long a call may still settle after its answer stream ended cleanly (parsing is async). */
const SETTLE_GRACE_MS = 250;

/**
 * The answer stream of a request broke off before the answer came. The SDK leaves such a request
 * pending until its timeout (it only reconnects streams it can resume), so without this a crashed
 * upstream would look like a hung one for the whole deadline. An SdkError, so that the SDK hands it
 * back unchanged when a call is aborted with it.
 */
export class AnswerCutOff extends SdkError {
  constructor(
    readonly reason: string,
    readonly tooLarge = false,
  ) {
    super(SdkErrorCode.ConnectionClosed, reason);
    this.name = "AnswerCutOff";
  }
}

/** Per upstream client: which tagged requests are waiting for an answer, and what to do if it breaks off. */
export class AnswerWatch {
  private readonly watchers = new Map<string, (error: AnswerCutOff) => void>();

  watch(onCutOff: (error: AnswerCutOff) => void): { headers: Record<string, string>; stop(): void } {
    const id = crypto.randomUUID();
    this.watchers.set(id, onCutOff);
    return { headers: { [WATCH_HEADER]: id }, stop: () => void this.watchers.delete(id) };
  }

  /** The answer stream of request `id` ended (`error` null: cleanly) without being resumable. */
  streamEnded(id: string, error: AnswerCutOff | null): void {
    if (error !== null) {
      this.cutOff(id, error);
      return;
    }
    setTimeout(() => this.cutOff(id, new AnswerCutOff("the server ended its answer stream without answering")), SETTLE_GRACE_MS);
  }

  private cutOff(id: string, error: AnswerCutOff): void {
    const watcher = this.watchers.get(id);
    this.watchers.delete(id);
    watcher?.(error);
  }
}

/** Why an answer that outgrew its budget was cut off, in words. */
export function tooLargeMessage(error: ResponseTooLarge): string {
  if (error instanceof AnswersInFlightFull) return `the upstream answer was cut off: the gateway was already reading ${formatBytes(error.limit)} of answers at once; try again`;
  return `the upstream answer was larger than ${formatBytes(error.maxBytes)} and was cut off`;
}
