import { FieldError, Layout } from "./layout.tsx";
import { formatTime } from "./format.ts";

export type AccountSso = {
  providerName: string;
  /** When the account's identity at the provider was linked; null when it has none. */
  linkedAt: number | null;
};

export type AccountPageProps = {
  user: { email: string; role: string };
  /** Null when the workspace has no single sign-on switched on. */
  sso: AccountSso | null;
  password: PasswordSectionProps;
};

export type PasswordSectionProps = { hasPassword: boolean; errors?: Record<string, string>; notice?: string };

/** The signed-in person's own page: who they are here, and their link to the workspace's SSO. */
export function AccountPage(props: AccountPageProps): JSX.Element {
  return (
    <Layout title="Your account" user={props.user} active="account">
      <h1>Your account</h1>
      <section class="card stack">
        <p>
          Signed in as <strong safe>{props.user.email}</strong> (<span safe>{props.user.role}</span>).
        </p>
      </section>
      <PasswordSection {...props.password} />
      {props.sso ? <SsoLink {...props.sso} /> : ""}
    </Layout>
  );
}

function SsoLink(props: AccountSso): JSX.Element {
  return (
    <section class="card stack" id="account-sso" aria-labelledby="account-sso-title">
      <h2 id="account-sso-title">Single sign-on</h2>
      {props.linkedAt !== null ? (
        <>
          <p>
            Linked to <span safe>{props.providerName}</span> since <span safe>{formatTime(props.linkedAt)}</span>: you can sign in with “Sign in with{" "}
            <span safe>{props.providerName}</span>”.
          </p>
          <form method="post" action="/account/sso/unlink" class="inline">
            <button type="submit" class="secondary">Unlink</button>
          </form>
        </>
      ) : (
        <>
          <p>
            Not linked. Linking lets you sign in with “Sign in with <span safe>{props.providerName}</span>”. You will sign in there, and the account
            you use there will be able to sign in as you here.
          </p>
          <form method="post" action="/account/sso/link" class="inline">
            <button type="submit">
              Link <span safe>{props.providerName}</span>
            </button>
          </form>
        </>
      )}
    </section>
  );
}

/** Changing one's own password: the current one first. Replaces itself with htmx; a plain form without. */
export function PasswordSection(props: PasswordSectionProps): JSX.Element {
  const errors = props.errors ?? {};
  return (
    <section class="card stack" id="account-password" aria-labelledby="account-password-title">
      <h2 id="account-password-title">Password</h2>
      {props.notice ? (
        <p role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {props.hasPassword ? (
        <form method="post" action="/account/password" hx-post="/account/password" hx-target="#account-password" hx-swap="outerHTML" class="stack">
          <label for="current-password">Current password</label>
          <input id="current-password" name="current" type="password" autocomplete="current-password" required aria-describedby="current-error" />
          <FieldError errors={errors} field="current" />
          <label for="new-password">New password</label>
          <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-error" />
          <FieldError errors={errors} field="password" />
          <label for="confirm-password">New password again</label>
          <input id="confirm-password" name="confirm" type="password" autocomplete="new-password" required aria-describedby="confirm-error" />
          <FieldError errors={errors} field="confirm" />
          <button type="submit">Change password</button>
        </form>
      ) : (
        <p class="muted">You sign in through single sign-on: there is no password to change here.</p>
      )}
    </section>
  );
}
