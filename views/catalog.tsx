import type { CatalogEntry, CatalogOption } from "../src/catalog/catalog.ts";
import type { Viewer } from "../src/web/viewer.ts";
import { FieldError, Layout } from "./layout.tsx";
import { ExposeAllChoice } from "./components.tsx";

const SIGN_IN_LABEL: Record<CatalogOption["kind"], string> = {
  none: "No sign-in",
  oauth: "OAuth",
  bearer: "API key",
  header: "API key (header)",
  url: "API key (in the URL)",
};

export function signInSummary(entry: CatalogEntry): string {
  return entry.signIn.map((option) => SIGN_IN_LABEL[option.kind]).join(" or ");
}

/** Add server → Catalog: well-known servers, each one click from a pre-filled form. */
export function CatalogPage(props: { user: Viewer; entries: CatalogEntry[] }): JSX.Element {
  return (
    <Layout title="Catalog" user={props.user} active="connections">
      <p>
        <a href="/">← Connections</a>
      </p>
      <div class="page-head">
        <h1>Add server from the catalog</h1>
        <a class="button secondary" href="/connections/new">
          Add by URL instead
        </a>
      </div>
      <ul class="cards" aria-label="Catalog">
        {props.entries.map((entry) => (
          <li class="card catalog-entry" id={`catalog-${entry.id}`}>
            <div class="card-head">
              <h2 safe>{entry.name}</h2>
              <span class="badge badge-muted" safe>
                {signInSummary(entry)}
              </span>
            </div>
            <p safe>{entry.description}</p>
            <p class="url" safe>
              {entry.url}
            </p>
            <p class="actions">
              <a class="button" href={`/catalog/${encodeURIComponent(entry.id)}`}>
                Use <span class="visually-hidden" safe>{entry.name}</span>
              </a>
              <a class="muted" href={safeHref(entry.docs)} rel="noopener noreferrer" target="_blank">
                Docs
              </a>
            </p>
          </li>
        ))}
      </ul>
    </Layout>
  );
}

export type CatalogFormValues = { name: string; signIn: number; exposeAll?: boolean };

export type CatalogAddProps = { entry: CatalogEntry; values: CatalogFormValues; errors: Record<string, string>; callbackUrl: string; metadataDocument: boolean };

export function CatalogAddPage(props: CatalogAddProps & { user: Viewer }): JSX.Element {
  return (
    <Layout title={`Add ${props.entry.name}`} user={props.user} active="connections">
      <p>
        <a href="/catalog">← Catalog</a>
      </p>
      <h1>
        Add <span safe>{props.entry.name}</span>
      </h1>
      <CatalogAddForm {...props} />
    </Layout>
  );
}

/** Name and URL come filled in; the sign-ins are the ones the provider documents. Keys are never sent back. */
export function CatalogAddForm(props: CatalogAddProps): JSX.Element {
  const { entry, values, errors } = props;
  const action = `/catalog/${encodeURIComponent(entry.id)}`;
  const credentialError = errors.token ?? errors.value ?? errors.key ?? errors.clientId ?? errors.clientSecret ?? errors.auth;
  return (
    <form id="catalog-add" method="post" action={action} hx-post={action} hx-target="this" hx-swap="outerHTML" hx-disable="find button" class="card stack">
      <p safe>{entry.description}</p>
      <label for="catalog-name">Name</label>
      <input id="catalog-name" name="name" required maxlength="32" autocomplete="off" spellcheck="false" value={values.name} aria-describedby="name-help name-error" />
      <p class="muted hint" id="name-help">
        The prefix of its tools (<code>name__tool</code>).
      </p>
      <FieldError errors={errors} field="name" />
      <FieldError errors={errors} field="url" />
      <fieldset class="stack">
        <legend>Sign-in</legend>
        {entry.signIn.map((option, i) => (
          <div class="stack signin-option">
            <label class="choice">
              <input type="radio" name="signIn" value={String(i)} checked={values.signIn === i} />{" "}
              <strong safe>{SIGN_IN_LABEL[option.kind]}</strong>
            </label>
            {/* Only the chosen sign-in's inputs show (app.css, :has()); every one stays in the form. */}
            <div class="signin-fields stack">
              <p class="url" safe>
                {option.url ?? entry.url}
              </p>
              <SignInFields option={option} index={i} callbackUrl={props.callbackUrl} metadataDocument={props.metadataDocument} />
            </div>
            {values.signIn === i && credentialError ? (
              <p class="field-error" role="alert" safe>
                {credentialError}
              </p>
            ) : (
              ""
            )}
          </div>
        ))}
      </fieldset>
      <ExposeAllChoice checked={values.exposeAll === true} />
      <div class="actions">
        <button type="submit">
          Add server <span class="spinner htmx-indicator" aria-hidden="true"></span>
        </button>
      </div>
    </form>
  );
}

function SignInFields(props: { option: CatalogOption; index: number; callbackUrl: string; metadataDocument: boolean }): JSX.Element {
  const { option, index } = props;
  const id = (field: string) => `signin-${index}-${field}`;
  if (option.kind === "none") return <p class="muted hint">The server needs no credential.</p>;
  if (option.kind === "oauth") {
    const client = (
      <div class="stack">
        <p class="muted hint">
          Register this callback URL with the provider: <code safe>{props.callbackUrl}</code>
        </p>
        <label for={id("client-id")}>Client ID</label>
        <input id={id("client-id")} name={`clientId-${index}`} autocomplete="off" spellcheck="false" />
        <label for={id("client-secret")}>Client secret</label>
        <input id={id("client-secret")} name={`clientSecret-${index}`} type="password" autocomplete="off" spellcheck="false" />
      </div>
    );
    const identity = props.metadataDocument
      ? "the gateway identifies itself with its client metadata document, or registers itself"
      : "the gateway registers itself with the provider (dynamic client registration)";
    return (
      <div class="stack">
        {option.help ? <p class="muted hint" safe>{option.help}</p> : <p class="muted hint">After adding, Connect opens the provider to approve access. No key to copy.</p>}
        {option.clientRequired ? (
          client
        ) : (
          <details>
            <summary>Use a client registered with the provider (optional)</summary>
            <p class="muted hint" safe>{`Without one, ${identity}.`}</p>
            {client}
          </details>
        )}
      </div>
    );
  }
  return (
    <div class="stack">
      <label for={id("key")} safe>
        {option.label}
      </label>
      <input id={id("key")} name={`key-${index}`} type="password" autocomplete="off" spellcheck="false" value="" />
      {option.help ? <p class="muted hint" safe>{option.help}</p> : ""}
      {option.kind === "header" ? (
        <p class="muted hint">
          Sent as the <code safe>{option.header}</code> header.
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

/** Docs links come from the catalog file; only http(s) ones become links. */
function safeHref(url: string): string {
  return /^https?:\/\//.test(url) ? url : "#";
}
