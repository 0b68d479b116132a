/**
 * Waits for what a test means (a count reached, a status changed, a notification heard) instead of
 * sleeping and hoping. Polls `check` every few milliseconds; fails with `what` when `timeoutMs` runs out.
 */
export type WaitOptions = { timeoutMs?: number; what?: string };

const POLL_EVERY_MS = 10;

export async function waitFor(check: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 5000, what = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(POLL_EVERY_MS);
  }
  if (await check()) return;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
