import { parseArgs } from "node:util";
import type { CoreDeps } from "../deps.ts";
import { exportAuditLines, parseExportTime } from "./export.ts";
import { pruneAuditTrail } from "./retention.ts";
import { verifyAuditTrail } from "./verify.ts";

export type CommandIo = {
  out(text: string): Promise<void>;
  err(line: string): void;
};

const GC_EVERY_PAGES = 5;

/** A full collection every few pages keeps a long export's or verify's peak flat (export.ts), at a few ms each. */
function collect(page: number): void {
  if (page % GC_EVERY_PAGES === GC_EVERY_PAGES - 1) Bun.gc(true);
}

export const AUDIT_USAGE = `Usage: mcp-gateway audit verify
       mcp-gateway audit export [--from TIME] [--to TIME]   (JSON lines on stdout; TIME: 2026-12-01 or an ISO time)
       mcp-gateway audit prune [--days N]                   (default: AUDIT_RETENTION_DAYS)
`;

/** `audit verify | export | prune`: 0 on success, 1 when the trail does not verify, 2 on bad usage. */
export async function auditCommand(deps: CoreDeps, args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { from: { type: "string" }, to: { type: "string" }, days: { type: "string" } } });
  switch (positionals[0]) {
    case "verify": {
      const result = await verifyAuditTrail(deps.database, deps.keyring, { afterPage: collect });
      if (!result.ok) {
        io.err(`The audit trail does not verify. ${result.problem}`);
        return 1;
      }
      const anchored = result.anchoredSeq === null ? "" : ` (entries up to #${result.anchoredSeq} were removed by retention; its signed anchor checks out)`;
      const span = result.entries === 0 ? "no entries" : `${result.entries} entries, #${result.firstSeq} to #${result.lastSeq}`;
      await io.out(`The audit trail verifies: ${span}${anchored}. Head hash: ${result.head}\n`);
      return 0;
    }
    case "export": {
      const from = parseExportTime(values.from);
      const to = parseExportTime(values.to);
      if (from === "invalid" || to === "invalid") {
        io.err(`--from and --to take a date (2026-12-01) or an ISO time (2026-12-01T08:00:00Z).\n${AUDIT_USAGE}`);
        return 2;
      }
      for await (const chunk of exportAuditLines(deps.database, { from, to, workspaceId: null, afterPage: collect })) await io.out(chunk);
      return 0;
    }
    case "prune": {
      const days = values.days === undefined ? deps.config.auditRetentionDays : Number(values.days);
      if (!Number.isInteger(days) || days < 1) {
        io.err(`Say how many days to keep: --days N (a whole number from 1), or set AUDIT_RETENTION_DAYS.\n${AUDIT_USAGE}`);
        return 2;
      }
      const result = await pruneAuditTrail(deps.database, deps.keyring, days);
      await io.out(result.removed === 0 ? `No audit entries older than ${days} days.\n` : `Removed ${result.removed} audit entries (through #${result.throughSeq}); a signed anchor keeps the rest verifiable.\n`);
      return 0;
    }
    default:
      io.err(AUDIT_USAGE);
      return 2;
  }
}

/** Writes to stdout, waiting whenever its buffer is full: an export holds one page at most. */
export function stdoutWriter(): (text: string) => Promise<void> {
  return (text) =>
    new Promise<void>((resolve, reject) => {
      if (process.stdout.write(text, (error) => (error ? reject(error) : undefined))) resolve();
      else process.stdout.once("drain", () => resolve());
    });
}
