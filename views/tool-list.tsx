import type { ConnectionMeta, ToolRow } from "../src/connections/types.ts";
import { filterQuery, isFiltered, pageOfTools, type ToolFilter } from "../src/connections/tool-filter.ts";
import { shorten } from "./connections.tsx";
import { ToolOverrideForm, type OverrideFormState } from "./tool-override.tsx";

const NO_FILTER: ToolFilter = { q: "", show: "all", page: 1 };

function base(c: Pick<ConnectionMeta, "id">): string {
  return `/connections/${encodeURIComponent(c.id)}`;
}

export type ToolsSectionProps = {
  connection: ConnectionMeta;
  tools: ToolRow[];
  admin: boolean;
  filter?: ToolFilter;
  notice?: string;
  /** Tools a re-sync found new or changed, not reviewed since. */
  changed?: ReadonlySet<string>;
  /** A refused alias or description, shown open under its tool. */
  overrideForm?: OverrideFormState;
  /** Tools whose change upstream is held for review (the review section above has the diff). */
  held?: ReadonlySet<string>;
};

/**
 * A connection's tools: search and on/off filter (a plain GET form; with htmx the list follows the
 * typing), bulk on/off, and one page of tools with a toggle each. A toggle or a bulk action replaces
 * the whole section so the counts stay right; the filter rides along in each form.
 */
export function ToolsSection(props: ToolsSectionProps): JSX.Element {
  const c = props.connection;
  const filter = props.filter ?? NO_FILTER;
  const enabled = props.tools.filter((t) => t.enabled).length;
  const fragment = `${base(c)}/tools`;
  return (
    <section id="tools" class="card stack" aria-labelledby="tools-title">
      <h2 id="tools-title">
        Tools <span class="muted" safe>{`· ${enabled} of ${props.tools.length} exposed`}</span>
      </h2>
      {props.tools.length === 0 ? <p class="muted">This server lists no tools.</p> : ""}
      {props.admin && !c.exposeNewTools && props.tools.length > 0 && enabled === 0 ? (
        <p class="status-detail" role="status">
          None of these tools is exposed until you pick them: <a href={`${base(c)}/expose`}>Choose the tools to expose</a>.
        </p>
      ) : (
        ""
      )}
      {props.tools.length > 0 ? (
        <form method="get" action={`${base(c)}#tools`} class="tool-filter" hx-get={fragment} hx-target="#tool-results" hx-swap="outerHTML" hx-push-url="false">
          <div class="field stack">
            <label for="tool-q">Search tools</label>
            <input
              id="tool-q"
              name="q"
              type="search"
              value={filter.q}
              placeholder="name or description"
              autocomplete="off"
              hx-get={fragment}
              hx-trigger="input changed delay:250ms"
              hx-include="closest form"
              hx-target="#tool-results"
              hx-swap="outerHTML"
            />
          </div>
          <div class="field stack">
            <label for="tool-show">Show</label>
            <select id="tool-show" name="show" hx-get={fragment} hx-include="closest form" hx-target="#tool-results" hx-swap="outerHTML">
              <option value="all" selected={filter.show === "all"}>All tools</option>
              <option value="on" selected={filter.show === "on"}>Exposed (on)</option>
              <option value="off" selected={filter.show === "off"}>Hidden (off)</option>
              <option value="changed" selected={filter.show === "changed"} safe>
                {`Changed at a re-sync (${props.changed?.size ?? 0})`}
              </option>
            </select>
          </div>
          <button type="submit" class="secondary">
            Filter
          </button>
        </form>
      ) : (
        ""
      )}
      {props.notice ? (
        <p class="flash" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {props.tools.length > 0 ? <ToolResults connection={c} tools={props.tools} admin={props.admin} filter={filter} changed={props.changed} overrideForm={props.overrideForm} held={props.held} /> : ""}
    </section>
  );
}

/** What the filter finds: bulk buttons, one page of tools, and the pager. The type-ahead swaps only this. */
export function ToolResults(props: { connection: ConnectionMeta; tools: ToolRow[]; admin: boolean; filter: ToolFilter; changed?: ReadonlySet<string>; overrideForm?: OverrideFormState; held?: ReadonlySet<string> }): JSX.Element {
  const c = props.connection;
  const { filter } = props;
  const changed = props.changed ?? new Set<string>();
  const page = pageOfTools(props.tools, filter, changed);
  const filtered = isFiltered(filter);
  const bulk = `${base(c)}/tools/bulk`;
  return (
    <div id="tool-results" class="stack">
      <p class="muted" role="status" safe>
        {`${filtered ? `${page.matching} of ${props.tools.length} tools match.` : `${props.tools.length} ${props.tools.length === 1 ? "tool" : "tools"}.`}${page.pages > 1 ? ` Showing ${page.first + 1}–${page.first + page.tools.length}.` : ""}`}
      </p>
      {props.admin ? (
        <form method="post" action={bulk} hx-post={bulk} hx-target="#tools" hx-swap="outerHTML" class="actions bulk-actions" aria-label="Turn many tools on or off">
          <FilterFields filter={filter} />
          {filtered ? (
            <>
              <button type="submit" name="action" value="shown-on" class="secondary small" safe>
                {`Turn the ${page.matching} shown on`}
              </button>
              <button type="submit" name="action" value="shown-off" class="secondary small" safe>
                {`Turn the ${page.matching} shown off`}
              </button>
            </>
          ) : (
            ""
          )}
          <button type="submit" name="action" value="all-on" class="secondary small">
            All on
          </button>
          <button type="submit" name="action" value="all-off" class="secondary small">
            All off
          </button>
        </form>
      ) : (
        ""
      )}
      <ul class="tool-list">
        {page.tools.map((tool, n) => {
          const i = page.first + n;
          return (
            <li class="tool" id={`tool-${i}`}>
              <div class="tool-main">
                <code class="tool-name" id={`tool-${i}-name`} safe>
                  {tool.exposedName}
                </code>
                {tool.title ? (
                  <span class="tool-title" safe>
                    {tool.title}
                  </span>
                ) : (
                  ""
                )}
                {changed.has(tool.name) ? <span class="badge badge-warn tool-changed">changed</span> : ""}
                {props.held?.has(tool.name) ? (
                  <a class="badge badge-warn tool-changed" href="#review">
                    held for review
                  </a>
                ) : (
                  ""
                )}
                {tool.override?.alias ? (
                  <span class="muted tool-upstream-name">
                    alias of <code safe>{tool.name}</code>
                  </span>
                ) : (
                  ""
                )}
                {tool.override?.description ? <span class="badge badge-muted tool-own-description">description set by an admin</span> : ""}
                {(tool.override?.description ?? tool.description) ? (
                  <p class="muted tool-desc" safe>
                    {shorten(tool.override?.description ?? tool.description ?? "", 300)}
                  </p>
                ) : (
                  ""
                )}
                {props.admin ? (
                  <ToolOverrideForm connection={c} tool={tool} index={i} state={props.overrideForm?.tool === tool.name ? props.overrideForm : undefined}>
                    <FilterFields filter={filter} />
                  </ToolOverrideForm>
                ) : (
                  ""
                )}
              </div>
              <div class="tool-actions">
                <a href={`${base(c)}/test?tool=${encodeURIComponent(tool.name)}`} aria-describedby={`tool-${i}-name`}>
                  Test
                </a>
                {props.admin ? <ToolToggle connection={c} tool={tool} index={i} filter={filter} /> : <span class={tool.enabled ? "badge badge-ok" : "badge badge-muted"}>{tool.enabled ? "On" : "Off"}</span>}
              </div>
            </li>
          );
        })}
      </ul>
      {page.pages > 1 ? (
        <nav class="pager" aria-label="Pages of tools">
          {page.page > 1 ? <a href={`${base(c)}${filterQuery(filter, page.page - 1)}#tools`}>← Previous</a> : <span></span>}
          <span class="muted" safe>{`Page ${page.page} of ${page.pages}`}</span>
          {page.page < page.pages ? <a href={`${base(c)}${filterQuery(filter, page.page + 1)}#tools`}>Next →</a> : <span></span>}
        </nav>
      ) : (
        ""
      )}
    </div>
  );
}

/** The filter, carried by a form that changes tools so the list it returns looks the same. */
function FilterFields(props: { filter: ToolFilter }): JSX.Element {
  return (
    <>
      <input type="hidden" name="q" value={props.filter.q} />
      <input type="hidden" name="show" value={props.filter.show} />
      <input type="hidden" name="page" value={String(props.filter.page)} />
    </>
  );
}

function ToolToggle(props: { connection: ConnectionMeta; tool: ToolRow; index: number; filter: ToolFilter }): JSX.Element {
  const action = `${base(props.connection)}/tools?tool=${encodeURIComponent(props.tool.name)}`;
  const on = props.tool.enabled;
  return (
    <form method="post" action={action} hx-post={action} hx-target="#tools" hx-swap="outerHTML" class="inline">
      <input type="hidden" name="enabled" value={on ? "false" : "true"} />
      <FilterFields filter={props.filter} />
      <button type="submit" id={`tool-${props.index}-toggle`} class="switch" aria-pressed={on ? "true" : "false"} aria-describedby={`tool-${props.index}-name`}>
        <span class="switch-track" aria-hidden="true"></span>
        <span aria-hidden="true">{on ? "On" : "Off"}</span>
        <span class="visually-hidden">Expose</span>
      </button>
    </form>
  );
}
