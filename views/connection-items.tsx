import type { ConnectionMeta } from "../src/connections/types.ts";
import type { ItemRow } from "../src/connections/items.ts";
import { shorten } from "./connections.tsx";

const KIND_LABEL: Record<ItemRow["kind"], string> = { prompt: "Prompt", resource: "Resource", resource_template: "Template" };

function itemsPath(c: Pick<ConnectionMeta, "id">): string {
  return `/connections/${encodeURIComponent(c.id)}/items`;
}

/**
 * A connection's prompts, resources and resource templates beside its tools, each with the same
 * toggle (a plain form that works without JavaScript; with htmx it replaces this section).
 */
export function ItemsSection(props: { connection: ConnectionMeta; items: ItemRow[]; admin: boolean }): JSX.Element {
  const c = props.connection;
  const enabled = props.items.filter((item) => item.enabled).length;
  return (
    <section id="items" class="card" aria-labelledby="items-title">
      <h2 id="items-title">
        Prompts and resources <span class="muted" safe>{`· ${enabled} of ${props.items.length} exposed`}</span>
      </h2>
      {props.items.length === 0 ? <p class="muted">This server lists no prompts or resources.</p> : ""}
      <ul class="tool-list">
        {props.items.map((item, i) => (
          <li class="tool" id={`item-${i}`}>
            <div class="tool-main">
              <span class="badge badge-muted" safe>{KIND_LABEL[item.kind]}</span>{" "}
              <code class="tool-name" id={`item-${i}-name`} safe>
                {item.exposedName}
              </code>
              {item.title ? (
                <span class="tool-title" safe>
                  {item.title}
                </span>
              ) : (
                ""
              )}
              {item.description ? (
                <p class="muted tool-desc" safe>
                  {shorten(item.description, 300)}
                </p>
              ) : (
                ""
              )}
            </div>
            <div class="tool-actions">
              {props.admin ? <ItemToggle connection={c} item={item} index={i} /> : <span class={item.enabled ? "badge badge-ok" : "badge badge-muted"}>{item.enabled ? "On" : "Off"}</span>}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ItemToggle(props: { connection: ConnectionMeta; item: ItemRow; index: number }): JSX.Element {
  const action = `${itemsPath(props.connection)}?kind=${encodeURIComponent(props.item.kind)}&name=${encodeURIComponent(props.item.name)}`;
  const on = props.item.enabled;
  return (
    <form method="post" action={action} hx-post={action} hx-target="#items" hx-swap="outerHTML" class="inline">
      <input type="hidden" name="enabled" value={on ? "false" : "true"} />
      <button type="submit" id={`item-${props.index}-toggle`} class="switch" aria-pressed={on ? "true" : "false"} aria-describedby={`item-${props.index}-name`}>
        <span class="switch-track" aria-hidden="true"></span>
        <span aria-hidden="true">{on ? "On" : "Off"}</span>
        <span class="visually-hidden">Expose</span>
      </button>
    </form>
  );
}
