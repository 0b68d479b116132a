import { AsyncLocalStorage } from "node:async_hooks";

/**
 * SQLite has one connection for every request, and a transaction on it spans `await`s: without a
 * gate, any statement another request runs meanwhile lands inside that transaction — its write is
 * rolled back with it, its read sees uncommitted rows. The gate knows which async context opened
 * the transaction (AsyncLocalStorage marks it); statements from any other context wait until COMMIT
 * or ROLLBACK, and so do other transactions. With no transaction open a statement only pays one
 * null check.
 */
export class StatementGate {
  private open: { token: object; ended: Promise<void> } | null = null;
  private readonly context = new AsyncLocalStorage<object>();

  /** A transaction is open and the caller is not inside it. */
  blocks(): boolean {
    return this.open !== null && this.context.getStore() !== this.open.token;
  }

  /** The caller runs inside the open transaction. */
  inside(): boolean {
    return this.open !== null && this.context.getStore() === this.open.token;
  }

  /** Runs `statement` once no other context's transaction is open (checked and run in one turn). */
  async after<T>(statement: () => T): Promise<T> {
    while (this.open !== null && this.blocks()) await this.open.ended;
    return statement();
  }

  /** Runs `body` as the one open transaction; it must begin it before its first `await`. */
  async exclusive<T>(body: () => Promise<T>): Promise<T> {
    while (this.open !== null) await this.open.ended;
    const token = {};
    const { promise: ended, resolve: end } = Promise.withResolvers<void>();
    this.open = { token, ended };
    try {
      return await this.context.run(token, body);
    } finally {
      this.open = null;
      end();
    }
  }

  /** Resolves when no transaction is open (for closing the connection). */
  async idle(): Promise<void> {
    while (this.open !== null) await this.open.ended;
  }
}
