import type { ConnectionMeta } from "../src/connections/types.ts";
import type { MemberCredentialStatus } from "../src/connections/member-credentials.ts";
import { FieldError } from "./layout.tsx";
import { formatTime } from "./format.ts";
import { OAuthConnectButton } from "./oauth.tsx";

export type MemberAccountProps = { connection: ConnectionMeta; status: MemberCredentialStatus | null; errors: Record<string, string> };

const PASTE_LABEL: Record<string, string> = { bearer: "Your API key or token", header: "Your header value", url: "Your API key" };

/**
 * "Your account" on a per-member connection: every member connects their own credential, and
 * calls they make use it. Replaces itself after Connect (token) or Disconnect.
 */
export function MemberAccountSection(props: MemberAccountProps): JSX.Element {
  const c = props.connection;
  const base = `/connections/${encodeURIComponent(c.id)}/my-account`;
  return (
    <section class="card stack" id="member-account" aria-labelledby="member-account-title">
      <h2 id="member-account-title">Your account</h2>
      <p class="muted">Each member uses their own account on this server: your calls to its tools use your credential, never anyone else's.</p>
      {props.status ? (
        <p>
          <span class="badge badge-ok">Connected</span> since <span safe>{formatTime(props.status.connectedAt)}</span>
          {props.status.expiresAt ? (
            <>
              {" "}
              (token valid until <span safe>{formatTime(props.status.expiresAt)}</span>)
            </>
          ) : (
            ""
          )}
        </p>
      ) : (
        <p>
          <span class="badge badge-warn">Not connected</span> Connect your account to use its tools.
        </p>
      )}
      {c.authKind === "oauth" ? (
        <OAuthConnectButton connection={c} action={`${base}/oauth/start`} label={props.status ? "Re-connect your account" : "Connect your account"} />
      ) : c.authKind === "id-jag" ? (
        <p class="muted">Connected through your identity provider when you call a tool: nothing to do here.</p>
      ) : (
        <form method="post" action={base} class="stack" hx-post={base} hx-target="#member-account" hx-swap="outerHTML">
          <label for="member-secret" safe>
            {PASTE_LABEL[c.authKind] ?? "Your credential"}
          </label>
          <input id="member-secret" name="secret" type="password" autocomplete="off" spellcheck="false" value="" aria-describedby="secret-error" />
          <FieldError errors={props.errors} field="secret" />
          <button type="submit">{props.status ? "Replace your credential" : "Connect your account"}</button>
        </form>
      )}
      {props.status ? (
        <form method="post" action={`${base}/remove`} hx-post={`${base}/remove`} hx-target="#member-account" hx-swap="outerHTML">
          <button type="submit" class="secondary">
            Disconnect your account
          </button>
        </form>
      ) : (
        ""
      )}
    </section>
  );
}
