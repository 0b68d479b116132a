import type { ProfileSummary } from "../src/profiles/store.ts";
import type { PickableConnection } from "../src/profiles/pickable.ts";
import type { ProfileItemKind } from "../src/profiles/limit.ts";
import { FieldError, Layout } from "./layout.tsx";

type User = { email: string; role: string };

const KIND_LABEL: Record<ProfileItemKind, string> = { tool: "tool", prompt: "prompt", resource: "resource", resource_template: "resource template" };

/** A checkbox's value: kind and connection id have no space, so the name after them may hold anything. */
export function itemValue(kind: string, connectionId: string, name: string): string {
  return `${kind} ${connectionId} ${name}`;
}

function pageTitle(name: string): string {
  return `Profile ${name}`;
}

export function ProfilesPage(props: { user: User; profiles: ProfileSummary[]; mcpUrl: string; flash?: string | null; error?: string }): JSX.Element {
  return (
    <Layout title="Profiles" user={props.user} active="profiles" flash={props.flash}>
      <h1>Profiles</h1>
      <p>
        A profile is a chosen set of tools, prompts and resources across connections. A key or an app limited to a profile sees and calls only
        what is in it; each profile also has its own endpoint, <code safe>{`${props.mcpUrl}/p/<profile>`}</code>. In Search mode only
        gateway__search_tools and gateway__call_tool are listed, and the agent finds the rest on demand.
      </p>
      <p>
        <a class="button" href="/profiles/new">
          New profile
        </a>
      </p>
      <ProfileList profiles={props.profiles} mcpUrl={props.mcpUrl} error={props.error} />
    </Layout>
  );
}

export function ProfileList(props: { profiles: ProfileSummary[]; mcpUrl: string; error?: string }): JSX.Element {
  return (
    <section id="profile-list" class="card">
      <h2>Profiles of this workspace</h2>
      {props.error ? (
        <p class="field-error" role="alert" safe>
          {props.error}
        </p>
      ) : (
        ""
      )}
      {props.profiles.length === 0 ? (
        <p class="muted">No profiles yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Mode</th>
                <th scope="col">Items</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Limited to it</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              {props.profiles.map((p) => (
                <tr id={`profile-${p.id}`}>
                  <td>
                    <a href={`/profiles/${p.id}`} safe>
                      {p.name}
                    </a>
                    {p.description ? (
                      <span class="muted sub" safe>
                        {p.description}
                      </span>
                    ) : (
                      ""
                    )}
                  </td>
                  <td>{p.mode === "search" ? "Search" : "Full"}</td>
                  <td safe>{String(p.itemCount)}</td>
                  <td>
                    <code safe>{`${props.mcpUrl}/p/${p.name}`}</code>
                  </td>
                  <td safe>{[...p.keys.map((k) => `key ${k}`), ...p.apps.map((a) => `app ${a}`)].join(", ") || "—"}</td>
                  <td>
                    <form method="get" action={`/profiles/${p.id}/delete`} hx-post={`/profiles/${p.id}/delete`} hx-target="#profile-list" hx-swap="outerHTML" hx-confirm="Delete this profile?">
                      <button type="submit" class="danger">
                        Delete <span class="visually-hidden" safe>{p.name}</span>
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export type ProfileFormValues = { id: string | null; name: string; description: string; mode: string; chosen: ReadonlySet<string> };

/** Create or edit: name, description, mode, and the items, grouped by connection, with a filter box (app.js). */
export function ProfileEditPage(props: { user: User; values: ProfileFormValues; connections: PickableConnection[]; errors?: Record<string, string> }): JSX.Element {
  const { values } = props;
  const errors = props.errors ?? {};
  const action = values.id ? `/profiles/${values.id}` : "/profiles";
  return (
    <Layout title={values.id ? `Profile ${values.name}` : "New profile"} user={props.user} active="profiles">
      {values.id ? <h1 safe>{pageTitle(values.name)}</h1> : <h1>New profile</h1>}
      <form id="profile-form" method="post" action={action} class="card stack">
        <label for="profile-name">Name</label>
        <input id="profile-name" name="name" required maxlength="32" placeholder="e.g. support-agent" value={values.name} aria-describedby="name-error" />
        <p class="muted">Lowercase letters, digits and dashes: it is part of the profile's URL.</p>
        <FieldError errors={errors} field="name" />
        <label for="profile-description">Description</label>
        <input id="profile-description" name="description" maxlength="500" value={values.description} aria-describedby="description-error" />
        <FieldError errors={errors} field="description" />
        <fieldset>
          <legend>Mode</legend>
          <label>
            <input type="radio" name="mode" value="full" checked={values.mode !== "search"} /> Full: every tool of the profile is listed
          </label>
          <label>
            <input type="radio" name="mode" value="search" checked={values.mode === "search"} /> Search: only gateway__search_tools and gateway__call_tool are listed (small tool lists)
          </label>
          <FieldError errors={errors} field="mode" />
        </fieldset>
        <h2>Items</h2>
        <FieldError errors={errors} field="items" />
        {props.connections.length === 0 ? (
          <p class="muted">No connections yet: add a server first, then pick its tools here.</p>
        ) : (
          <>
            <label for="profile-filter">Filter</label>
            <input id="profile-filter" type="search" autocomplete="off" placeholder="name or description" data-filter-items="#profile-items" />
            <div id="profile-items" class="stack">
              {props.connections.map((c) => (
                <fieldset class="profile-connection" data-filter-group>
                  <legend safe>{c.name}</legend>
                  {c.items.length === 0 ? <p class="muted">Nothing listed by this server yet.</p> : ""}
                  {c.items.map((item) => {
                    const value = itemValue(item.kind, c.id, item.name);
                    return (
                      <label class="profile-item" data-filter-text={`${c.name} ${item.name} ${item.description ?? ""}`.toLowerCase()}>
                        <input type="checkbox" name="item" value={value} checked={values.chosen.has(value)} /> <code safe>{item.name}</code>{" "}
                        <span class="badge badge-muted" safe>{KIND_LABEL[item.kind]}</span>{" "}
                        {item.description ? (
                          <span class="muted" safe>
                            {item.description.length > 140 ? `${item.description.slice(0, 140)}…` : item.description}
                          </span>
                        ) : (
                          ""
                        )}
                      </label>
                    );
                  })}
                </fieldset>
              ))}
            </div>
          </>
        )}
        <div class="actions">
          <button type="submit">Save profile</button>
          <a href="/profiles">Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
