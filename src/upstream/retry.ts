import { SdkError, SdkErrorCode } from "@modelcontextprotocol/client";

export type RetryPolicy = {
  /** Tries in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** In [0, 1); tests pass a fixed one. */
  random: () => number;
};

/** Four tries over roughly 0.2–0.7 s: enough to ride out a restart, short enough to fail visibly. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseMs: 100, maxMs: 2000, random: Math.random };

/** Exponential with "equal jitter": half the step is fixed, half random, so tries never bunch up. */
export function backoffDelayMs(policy: RetryPolicy, retry: number): number {
  const step = Math.min(policy.baseMs * 2 ** (retry - 1), policy.maxMs);
  return step / 2 + policy.random() * (step / 2);
}

export type RetryOptions = {
  policy?: RetryPolicy;
  /** Epoch ms after which no try starts (and no wait reaches past it). */
  deadlineAt: number;
  signal?: AbortSignal;
  /** Whether this error may be tried again; decided by the caller, who knows what was sent. */
  retryable(error: unknown): boolean;
  onRetry?(error: unknown, retry: number, delayMs: number): void;
};

/** Runs `attempt` until it succeeds, throws something not retryable, or runs out of tries or time. */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.attempts || options.signal?.aborted || !options.retryable(error)) throw error;
      const delayMs = backoffDelayMs(policy, n);
      if (Date.now() + delayMs >= options.deadlineAt) throw error;
      options.onRetry?.(error, n, delayMs);
      if (!(await sleepUnlessAborted(delayMs, options.signal))) throw error;
    }
  }
}

/** True after `ms`, false as soon as the signal aborts. */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A signal that aborts with a timeout error at `at` (epoch ms); clear it when done. */
export function deadlineSignal(timeoutMs: number): { signal: AbortSignal; at: number; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new SdkError(SdkErrorCode.RequestTimeout, "deadline")), timeoutMs);
  return { signal: controller.signal, at: Date.now() + timeoutMs, clear: () => clearTimeout(timer) };
}
