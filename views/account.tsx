import { Layout } from "./layout.tsx";
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
};

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
