import type { ConnectionMeta } from "../src/connections/types.ts";
import { changedLabels } from "../src/connections/definition-diff.ts";
import type { HeldEntry, NewEntry, ReviewSettings } from "../src/connections/review-model.ts";
import { DefinitionDiff } from "./definition-diff.tsx";
import { RelativeTime } from "./components.tsx";
import { shorten } from "./connections.tsx";

export type ReviewProps = {
  connection: Pick<ConnectionMeta, "id" | "name">;
  held: HeldEntry[];
  fresh: NewEntry[];
  settings: ReviewSettings;
  now: number;
  /** What the last approve / reject / save did, or why it was refused. */
  notice?: { text: string; error?: boolean };
};

const KIND_LABEL: Record<HeldEntry["kind"], string> = { tool: "Tool", prompt: "Prompt", resource_template: "Template" };

export function reviewPath(c: Pick<ConnectionMeta, "id">): string {
  return `/connections/${encodeURIComponent(c.id)}/review`;
}

/**
 * Held for review (admins only): each changed definition beside the one approved, with Approve and
 * Reject; the tools that are new and off; and what the connection does with the next change. Every
 * form replaces this section (htmx) or posts and comes back to the page (no JavaScript).
 */
export function ReviewSection(props: ReviewProps): JSX.Element {
  const c = props.connection;
  const count = props.held.length;
  return (
    <section id="review" class={count > 0 ? "card stack review-banner" : "card stack"} aria-labelledby="review-title">
      <h2 id="review-title">
        Held for review <span class="muted" safe>{`· ${count} ${count === 1 ? "change" : "changes"}`}</span>
      </h2>
      {props.notice ? (
        <p class={props.notice.error ? "flash flash-error" : "flash"} role={props.notice.error ? "alert" : "status"} safe>
          {props.notice.text}
        </p>
      ) : (
        ""
      )}
      {count === 0 ? (
        <p class="muted">Nothing is waiting: every exposed definition is the one approved.</p>
      ) : (
        <p>
          {props.settings.heldMode === "hide"
            ? "Until you decide, clients do not see these: each is hidden from the endpoint."
            : "Until you decide, clients see the approved definition and calls to it are refused with a sentence that says why."}
        </p>
      )}
      {props.held.map((entry, i) => (
        <HeldItem connection={c} entry={entry} index={i} now={props.now} />
      ))}
      <NewTools connection={c} fresh={props.fresh} />
      <ReviewSettingsForm connection={c} settings={props.settings} />
    </section>
  );
}

function HeldItem(props: { connection: Pick<ConnectionMeta, "id">; entry: HeldEntry; index: number; now: number }): JSX.Element {
  const { entry, index } = props;
  const changed = changedLabels(entry.diffs);
  const headId = `held-${index}-name`;
  const action = reviewPath(props.connection);
  return (
    <article class="held-item stack" id={`held-${index}`} aria-labelledby={headId}>
      <h3 id={headId}>
        <span class="badge badge-muted" safe>{KIND_LABEL[entry.kind]}</span> <code safe>{entry.exposedName}</code>
      </h3>
      <p class="muted">
        Changed upstream{changed.length > 0 ? ": " : ""}
        <span safe>{changed.join(", ")}</span>. Held <RelativeTime ms={entry.heldAt} now={props.now} />.
      </p>
      <DefinitionDiff diffs={entry.diffs} id={`held-${index}-diff`} />
      <form method="post" action={action} hx-post={action} hx-target="#review" hx-swap="outerHTML" hx-disable="find button" class="actions">
        <input type="hidden" name="item" value={entry.key} />
        <input type="hidden" name="hash" value={entry.hash} />
        <button type="submit" name="decision" value="approve" aria-describedby={headId}>
          Approve this definition
        </button>
        <button type="submit" name="decision" value="reject" class="danger" aria-describedby={headId}>
          Reject
        </button>
      </form>
    </article>
  );
}

function NewTools(props: { connection: Pick<ConnectionMeta, "id">; fresh: NewEntry[] }): JSX.Element {
  if (props.fresh.length === 0) return "";
  return (
    <div class="stack" id="new-tools">
      <h3 safe>{`New — not exposed (${props.fresh.length})`}</h3>
      <ul class="tool-list">
        {props.fresh.map((tool) => (
          <li class="tool">
            <div class="tool-main">
              <code class="tool-name" safe>
                {tool.exposedName}
              </code>{" "}
              <span class="badge badge-muted">New — not exposed</span>
              {tool.description ? (
                <p class="muted tool-desc" safe>
                  {shorten(tool.description, 300)}
                </p>
              ) : (
                ""
              )}
            </div>
          </li>
        ))}
      </ul>
      <p>
        <a href={`/connections/${encodeURIComponent(props.connection.id)}/expose`}>Choose the tools to expose</a>, or turn one on in the list of tools below.
      </p>
    </div>
  );
}

function ReviewSettingsForm(props: { connection: Pick<ConnectionMeta, "id">; settings: ReviewSettings }): JSX.Element {
  const action = `${reviewPath(props.connection)}/settings`;
  const { heldMode, exposeNewTools } = props.settings;
  return (
    <form method="post" action={action} hx-post={action} hx-target="#review" hx-swap="outerHTML" hx-disable="find button" class="stack" id="review-settings">
      <fieldset class="stack">
        <legend>When a tool changes upstream</legend>
        <label class="choice">
          <input type="radio" name="heldMode" value="hide" checked={heldMode === "hide"} /> Hide it until reviewed
        </label>
        <label class="choice">
          <input type="radio" name="heldMode" value="serve_approved" checked={heldMode === "serve_approved"} /> Keep serving the approved version (calls refused until reviewed)
        </label>
      </fieldset>
      <label class="choice">
        <input type="checkbox" name="exposeNewTools" value="true" checked={exposeNewTools} /> Expose new tools automatically
      </label>
      <div class="actions">
        <button type="submit" class="secondary">
          Save review settings
        </button>
      </div>
    </form>
  );
}
