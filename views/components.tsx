import type { ConnectionMeta } from "../src/connections/types.ts";
import { STATUS_LABEL } from "../src/connections/status.ts";
import { FieldError } from "./layout.tsx";
import { formatTime } from "./format.ts";
import { OAuthClientFields } from "./oauth.tsx";
import type { AuthKind, AuthKindInfo } from "../src/connections/auth-kinds/kinds.ts";

const BADGE_CLASS: Record<ConnectionMeta["status"], string> = {
  connected: "badge badge-ok",
  needs_reauth: "badge badge-warn",
  error: "badge badge-error",
  paused: "badge badge-muted",
};

export function StatusBadge(props: { connection: Pick<ConnectionMeta, "status" | "pausedUntil"> }): JSX.Element {
  const { status, pausedUntil } = props.connection;
  const label = status === "paused" && pausedUntil !== null ? `${STATUS_LABEL.paused} · retries ${formatTime(pausedUntil)}` : STATUS_LABEL[status];
  return (
    <span class={BADGE_CLASS[status]} safe>
      {label}
    </span>
  );
}

export function Time(props: { ms: number | null; never?: string }): JSX.Element {
  if (props.ms === null) return <span safe>{props.never ?? "never"}</span>;
  return (
    <time datetime={new Date(props.ms).toISOString()} safe>
      {formatTime(props.ms)}
    </time>
  );
}

export type AuthFieldsProps = {
  kind: AuthKind;
  /**
   * The kinds offered, from the one list the API validates against: Add server offers all of them;
   * re-authorizing a token connection offers only what can be pasted (it does not switch to OAuth).
   */
  kinds: readonly AuthKindInfo[];
  /** The header name is not a secret and is kept; token and value inputs always start empty. */
  header?: string;
  errors: Record<string, string>;
  legend: string;
};

/**
 * One radio per offered kind, and the inputs each needs. Which inputs show follows the checked
 * radio through CSS `:has()`, so it works without JavaScript (a browser without `:has()` shows
 * every input). Secret inputs always start empty: a 422 re-render never sends a typed secret back.
 */
export function AuthFields(props: AuthFieldsProps): JSX.Element {
  const offers = (kind: AuthKind): boolean => props.kinds.some((entry) => entry.kind === kind);
  return (
    <fieldset class="auth-choice stack">
      <legend safe>{props.legend}</legend>
      <div class="choices">
        {props.kinds.map((entry) => (
          <label class="choice">
            <input type="radio" name="auth" value={entry.kind} checked={props.kind === entry.kind} /> <span>{entry.label}</span>
          </label>
        ))}
      </div>
      <FieldError errors={props.errors} field="auth" />
      <div class="auth-token stack">
        <label for="auth-token">Token</label>
        <input id="auth-token" name="token" type="password" autocomplete="off" spellcheck="false" value="" aria-describedby="token-error token-help" aria-invalid={props.errors.token ? "true" : undefined} />
        <p class="muted hint" id="token-help">
          Sent as <code>Authorization: Bearer …</code>. Stored encrypted; never shown again.
        </p>
        <FieldError errors={props.errors} field="token" />
      </div>
      <div class="auth-header stack">
        <label for="auth-header">Header name</label>
        <input id="auth-header" name="header" autocomplete="off" spellcheck="false" placeholder="X-API-Key" value={props.header ?? ""} aria-describedby="header-error" aria-invalid={props.errors.header ? "true" : undefined} />
        <FieldError errors={props.errors} field="header" />
        <label for="auth-value">Header value</label>
        <input id="auth-value" name="value" type="password" autocomplete="off" spellcheck="false" value="" aria-describedby="value-error" aria-invalid={props.errors.value ? "true" : undefined} />
        <FieldError errors={props.errors} field="value" />
      </div>
      {offers("url") ? <UrlKeyFields errors={props.errors} /> : ""}
      {offers("oauth") ? <OAuthClientFields errors={props.errors} /> : ""}
      {offers("id-jag") ? <IdJagFields errors={props.errors} /> : ""}
    </fieldset>
  );
}

/** A key the server takes inside its URL, where the URL has `{key}` (Firecrawl does this). */
function UrlKeyFields(props: { errors: Record<string, string> }): JSX.Element {
  return (
    <div class="auth-urlkey stack">
      <label for="auth-key">API key</label>
      <input id="auth-key" name="key" type="password" autocomplete="off" spellcheck="false" value="" aria-describedby="key-error key-help" aria-invalid={props.errors.key ? "true" : undefined} />
      <p class="muted hint" id="key-help">
        Put <code>{"{key}"}</code> in the server URL where the key goes, e.g. <code>{"https://mcp.firecrawl.dev/{key}/v2/mcp"}</code>. The key is stored encrypted, never in
        the stored URL, and never shown again.
      </p>
      <FieldError errors={props.errors} field="key" />
    </div>
  );
}

/** Enterprise-managed authorization: the gateway's client at the server's authorization server. */
function IdJagFields(props: { errors: Record<string, string> }): JSX.Element {
  return (
    <div class="auth-idjag stack">
      <p class="muted hint">
        Each member's calls use a token for that member, obtained from your identity provider without a consent screen. Needs per-member sharing, members who sign in
        through SSO, and the client the server's authorization server registered for this gateway:
      </p>
      <label for="auth-idjag-client-id">Client ID</label>
      <input id="auth-idjag-client-id" name="idjagClientId" autocomplete="off" spellcheck="false" value="" aria-describedby="clientId-error" aria-invalid={props.errors.clientId ? "true" : undefined} />
      <FieldError errors={props.errors} field="clientId" />
      <label for="auth-idjag-client-secret">Client secret</label>
      <input id="auth-idjag-client-secret" name="idjagClientSecret" type="password" autocomplete="off" spellcheck="false" value="" aria-describedby="clientSecret-error" aria-invalid={props.errors.clientSecret ? "true" : undefined} />
      <FieldError errors={props.errors} field="clientSecret" />
    </div>
  );
}

/** Unticked, a new server exposes nothing until its tools are picked on the next step. */
export function ExposeAllChoice(props: { checked: boolean }): JSX.Element {
  return (
    <label class="choice">
      <input type="checkbox" name="expose" value="all" checked={props.checked} /> Expose every tool at once (skip choosing them; tools the server adds later are exposed too)
    </label>
  );
}
