import { writeSync } from "node:fs";
import type { LogLevel } from "./config.ts";

export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
};

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
// Defence in depth: no call site should ever pass a secret, but if one does, it is not written.
const SECRET_FIELD = /authorization|cookie|password|secret|token|api[-_]?key|credential|ciphertext/i;

/** JSON lines on `write` (stdout by default, batched: see batchedStdout), one object a line. */
export function createLogger(level: LogLevel, write: (line: string) => void = batchedStdout, base: Record<string, unknown> = {}): Logger {
  function emit(at: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[at] < ORDER[level]) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: at, msg, ...base };
    if (fields !== undefined) {
      for (const key of Object.keys(fields)) {
        const value = fields[key];
        record[key] = SECRET_FIELD.test(key) ? "[redacted]" : value instanceof Error ? value.message : value;
      }
    }
    write(JSON.stringify(record) + "\n");
  }
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

let pending = "";
let flushing = false;

/**
 * Stdout, one write per few milliseconds instead of one per line: a busy gateway logs a line per
 * request, and a write each cost it about 7% of its CPU, a write per turn of the event loop still
 * 3% (bench/README.md, issue 15). A line waits at most FLUSH_AFTER_MS, or less once PENDING_MAX
 * characters wait. What is pending when the process exits (a crash included) is written before it
 * goes. Other text a server prints among its log lines (main.ts's banner) goes through here too,
 * to keep its place.
 */
export function batchedStdout(line: string): void {
  pending += line;
  if (pending.length >= PENDING_MAX) {
    flushNow();
    return;
  }
  if (flushing) return;
  flushing = true;
  if (!exitHooked) {
    exitHooked = true;
    // At exit there is no later turn: written synchronously.
    process.once("exit", () => {
      if (pending !== "") writeSync(1, pending);
      pending = "";
    });
  }
  // Unref'd: a process with nothing else to do exits at once, and its exit hook writes the rest.
  setTimeout(flushLater, FLUSH_AFTER_MS).unref();
}

function flushLater(): void {
  flushing = false;
  flushNow();
}

const FLUSH_AFTER_MS = 10;
const PENDING_MAX = 64 * 1024;
let exitHooked = false;

function flushNow(): void {
  if (pending === "") return;
  const out = pending;
  pending = "";
  process.stdout.write(out);
}

