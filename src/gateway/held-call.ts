import { ProtocolError, ProtocolErrorCode, type CallToolResult, type LoggingMessageNotification } from "@modelcontextprotocol/server";
import type { Redactor } from "../connections/redact.ts";
import { runAsCall, type UpstreamAsk, type UpstreamCallChannel } from "../upstream/server-requests.ts";
import type { Holdable } from "../upstream/held-calls.ts";
import type { StandIn } from "./input-answers.ts";
import type { CallRelay, Progress } from "./results.ts";

type LogParams = LoggingMessageNotification["params"];

/** Where what the upstream sends during a round goes: the client request being answered now. */
export type RoundSink = { log(params: LogParams): void; progress(progress: Progress): void };

/** What one round of a call came to: its result, or questions the client must answer first. */
export type RoundOutcome = { done: CallToolResult } | { asks: Record<string, UpstreamAsk> };

type Ask = { request: UpstreamAsk; resolve(answer: Record<string, unknown>): void; reject(error: unknown): void };

/**
 * One upstream call seen from the client that made it, across the rounds the client needs to
 * answer what the upstream asks. The upstream's questions wait here, each under a key, until the
 * client's next round brings answers under those keys; a round ends with the call's result, or
 * with the questions still open. Only this call's questions are ever put to this call's client.
 */
export class HeldCall implements Holdable {
  readonly id = crypto.randomUUID();
  /** The connection the call went to, once it was sent. */
  connection: string | null = null;
  rounds = 0;
  private readonly controller = new AbortController();
  private readonly asks = new Map<string, Ask>();
  private counter = 0;
  private outcome: { result: CallToolResult } | { error: unknown } | null = null;
  // Rounds waiting for news: a client may retry before its previous round has ended.
  private readonly waiters = new Set<() => void>();
  private sink: RoundSink | null = null;

  /** `standIn` answers what the caller cannot (see input-answers.ts). */
  constructor(private readonly standIn: (ask: UpstreamAsk, connection: string) => StandIn) {}

  /** Aborts the upstream call when the client cancels, times out or the gateway stops. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts the call; `params` go into the upstream's tools/call (a 2026 upstream's resume). */
  start(run: (relay: CallRelay) => Promise<CallToolResult>, params?: Record<string, unknown>): this {
    const relay: CallRelay = { ...(params ? { params } : {}), run: (upstream, send) => runAsCall(this.channel(upstream), send), channel: (upstream) => this.channel(upstream) };
    run(relay).then(
      (result) => this.settle({ result }),
      (error: unknown) => this.settle({ error }),
    );
    return this;
  }

  attach(sink: RoundSink): void {
    this.sink = sink;
  }

  detach(sink: RoundSink): void {
    if (this.sink === sink) this.sink = null;
  }

  progress(progress: Progress): void {
    this.sink?.progress(progress);
  }

  /** The answers a client's round brought; a question it did not answer is asked again. */
  answer(responses: Record<string, unknown>): void {
    for (const [key, ask] of this.asks) {
      const response = responses[key];
      if (typeof response !== "object" || response === null || Array.isArray(response)) continue;
      this.asks.delete(key);
      // What the client answered goes upstream as it is.
      ask.resolve(response as Record<string, unknown>);
    }
  }

  /** Waits for the call's result or its next questions. */
  async next(signal: AbortSignal): Promise<RoundOutcome> {
    for (;;) {
      if (this.outcome) {
        if ("error" in this.outcome) throw this.outcome.error;
        return { done: this.outcome.result };
      }
      if (this.asks.size > 0) return { asks: Object.fromEntries([...this.asks].map(([key, ask]) => [key, ask.request])) };
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        this.waiters.add(done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  cancel(reason: string): void {
    const error = new ProtocolError(ProtocolErrorCode.InternalError, `The gateway cancelled this request: ${reason}.`);
    for (const ask of this.asks.values()) ask.reject(error);
    this.asks.clear();
    this.controller.abort(new Error(reason));
  }

  private settle(outcome: { result: CallToolResult } | { error: unknown }): void {
    this.outcome = outcome;
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** What the upstream sends during this call, redacted, named after its connection. */
  channel(upstream: { connection: string; redactor: Redactor }): UpstreamCallChannel {
    this.connection = upstream.connection;
    return {
      ask: (request, signal) => {
        const redacted: UpstreamAsk = { method: request.method, ...(request.params ? { params: upstream.redactor.redactValue(request.params) } : {}) };
        const standIn = this.standIn(redacted, upstream.connection);
        if (standIn && "answer" in standIn) return Promise.resolve(standIn.answer);
        if (standIn) return Promise.reject(new ProtocolError(ProtocolErrorCode.InvalidRequest, `${standIn.refuse}.`));
        return new Promise((resolve, reject) => {
          const key = `${upstream.connection}-${++this.counter}`;
          this.asks.set(key, { request: redacted, resolve, reject });
          // The upstream gave up on its question (its own timeout, or the call ended).
          signal.addEventListener(
            "abort",
            () => {
              if (this.asks.delete(key)) reject(signal.reason);
            },
            { once: true },
          );
          this.wake();
        });
      },
      log: (params) => {
        const logger = params.logger ? `${upstream.connection}/${params.logger}` : upstream.connection;
        this.sink?.log({ ...upstream.redactor.redactValue(params), logger: upstream.redactor.redactText(logger) });
      },
    };
  }
}
