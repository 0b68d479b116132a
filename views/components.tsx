import type { ConnectionMeta } from "../src/gateway/tool-index.ts";
import { STATUS_LABEL } from "../src/connections/status.ts";
import { FieldError } from "./layout.tsx";
import { formatTime } from "./format.ts";
import { OAuthClientFields } from "./oauth.tsx";

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
  kind: "none" | "bearer" | "header" | "oauth" | "id-jag";
  /** Offer OAuth (Add server); re-authorizing a token connection does not switch it to OAuth. */
  oauth?: boolean;
  /** The header name is not a secret and is kept; token and value inputs always start empty. */
  header?: string;
  errors: Record<string, string>;
  legend: string;
};

/**
 * None / token / custom header. Which inputs show follows the checked radio through CSS `:has()`,
 * so it works without JavaScript (a browser without `:has()` shows every input).
 */
export function AuthFields(props: AuthFieldsProps): JSX.Element {
  const radio = (value: AuthFieldsProps["kind"], label: string) => (
    <label class="choice">
      <input type="radio" name="auth" value={value} checked={props.kind === value} /> <span safe>{label}</span>
    </label>
  );
  return (
    <fieldset class="auth-choice stack">
      <legend safe>{props.legend}</legend>
      <div class="choices">
        {radio("none", "None")}
        {radio("bearer", "API key or token")}
        {radio("header", "Custom header")}
        {props.oauth ? radio("oauth", "OAuth") : ""}
        {props.oauth ? radio("id-jag", "Enterprise-managed (ID-JAG)") : ""}
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
      {props.oauth ? <OAuthClientFields errors={props.errors} /> : ""}
      {props.oauth ? <IdJagFields errors={props.errors} /> : ""}
    </fieldset>
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
