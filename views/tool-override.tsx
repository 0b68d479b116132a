import type { ConnectionMeta, ToolRow } from "../src/connections/types.ts";
import type { OverrideErrors, OverrideInput } from "../src/connections/tool-override-set.ts";
import type { Viewer } from "../src/web/viewer.ts";
import { Layout } from "./layout.tsx";

/** A refused alias or description: the form comes back open, with what was typed and why. */
export type OverrideFormState = { tool: string; values: OverrideInput; errors: OverrideErrors };

// Written out rather than imported from connection.tsx, which includes the tool list, which includes this.
function toolsPath(c: Pick<ConnectionMeta, "id">): string {
  return `/connections/${encodeURIComponent(c.id)}`;
}

/** Where a tool's alias and description are posted (and, without htmx, the page with its form). */
export function overridePath(c: Pick<ConnectionMeta, "id">, toolName: string): string {
  return `${toolsPath(c)}/tools/override?tool=${encodeURIComponent(toolName)}`;
}

/**
 * An admin's alias and description for one tool, folded under its row. It replaces the whole tools
 * section (like the on/off toggle), so the row shows the new name at once; `children` carries the
 * list's filter so the section comes back as it was.
 */
export function ToolOverrideForm(props: { connection: ConnectionMeta; tool: ToolRow; index: number; state?: OverrideFormState; children?: JSX.Element }): JSX.Element {
  const { tool, state } = props;
  const action = overridePath(props.connection, tool.name);
  const id = `tool-${props.index}`;
  return (
    <details class="tool-override" open={state !== undefined}>
      <summary aria-describedby={`${id}-name`}>Rename or describe</summary>
      <form method="post" action={action} hx-post={action} hx-target="#tools" hx-swap="outerHTML" class="stack">
        {(props.children ?? "") as "safe"}
        <OverrideFields id={id} tool={tool} state={state} />
      </form>
    </details>
  );
}

function OverrideFields(props: { id: string; tool: ToolRow; state?: OverrideFormState }): JSX.Element {
  const { id, tool } = props;
  const values = props.state?.values ?? { alias: tool.override?.alias ?? "", description: tool.override?.description ?? "" };
  const errors = props.state?.errors ?? {};
  return (
    <>
      <label for={`${id}-alias`}>Alias: the name agents see and call (empty: the usual connection__tool name)</label>
      <input id={`${id}-alias`} name="alias" value={values.alias} maxlength="64" autocomplete="off" aria-invalid={errors.alias ? "true" : undefined} aria-describedby={errors.alias ? `${id}-alias-error` : undefined} />
      {errors.alias ? (
        <p class="field-error" id={`${id}-alias-error`} role="alert" safe>
          {errors.alias}
        </p>
      ) : (
        ""
      )}
      <label for={`${id}-description`}>Description agents read (empty: the upstream's own)</label>
      <textarea id={`${id}-description`} name="description" rows="4" aria-invalid={errors.description ? "true" : undefined} aria-describedby={errors.description ? `${id}-description-error` : undefined} safe>
        {values.description}
      </textarea>
      {errors.description ? (
        <p class="field-error" id={`${id}-description-error`} role="alert" safe>
          {errors.description}
        </p>
      ) : (
        ""
      )}
      <div class="actions">
        <button type="submit" class="secondary small">
          Save
        </button>
        {tool.override ? (
          <button type="submit" name="action" value="clear" class="secondary small">
            Clear alias and description
          </button>
        ) : (
          ""
        )}
      </div>
    </>
  );
}

/** Without htmx: the form on a page of its own, for the link and for a refused post (422). */
export function ToolOverridePage(props: { user: Viewer; connection: ConnectionMeta; tool: ToolRow; state?: OverrideFormState }): JSX.Element {
  const { connection: c, tool } = props;
  return (
    <Layout title={`Rename or describe ${tool.exposedName}`} user={props.user} active="connections">
      <p>
        <a href={`${toolsPath(c)}#tools`}>
          ← <span safe>{c.name}</span>
        </a>
      </p>
      <section class="card narrow stack">
        <h1>
          Rename or describe <code safe>{tool.exposedName}</code>
        </h1>
        <p class="muted">
          Upstream name: <code safe>{tool.name}</code>
        </p>
        <form method="post" action={overridePath(c, tool.name)} class="stack">
          <OverrideFields id="tool-0" tool={tool} state={props.state} />
        </form>
      </section>
    </Layout>
  );
}
