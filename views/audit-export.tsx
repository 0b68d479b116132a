/**
 * Admins download the workspace's audit trail as JSON lines (every admin action and every call,
 * each entry with the hash of the one before). A plain GET form: the browser saves the streamed
 * file, with or without JavaScript; no htmx, there is nothing to swap.
 */
export function AuditExportForm(): JSX.Element {
  return (
    <form method="get" action="/audit/export" class="card filters" aria-label="Download the audit trail">
      <div class="stack">
        <label for="audit-from">Audit trail from</label>
        <input id="audit-from" name="from" type="date" />
      </div>
      <div class="stack">
        <label for="audit-to">until (not including)</label>
        <input id="audit-to" name="to" type="date" />
      </div>
      <div class="actions">
        <button type="submit">Download audit trail (JSON lines)</button>
      </div>
    </form>
  );
}
