import { FieldError, Layout } from "./layout.tsx";

/** The pages a one-time link opens: joining through an invitation, and setting a new password. */

export type InvitePageProps = { token: string; email: string; role: string; name?: string; errors?: Record<string, string> };

export function InvitePage(props: InvitePageProps): JSX.Element {
  const errors = props.errors ?? {};
  return (
    <Layout title="Join the workspace">
      <section class="card narrow stack">
        <h1>Join the workspace</h1>
        <p>
          You were invited as <strong safe>{props.email}</strong> (<span safe>{props.role}</span>). Choose a password to finish; you will be signed in.
        </p>
        <form method="post" action="/invite" class="stack">
          <FieldError errors={errors} field="form" />
          <input type="hidden" name="token" value={props.token} />
          <label for="invite-name">Your name (optional)</label>
          <input id="invite-name" name="name" maxlength="128" autocomplete="name" value={props.name ?? ""} />
          <label for="invite-password">Password</label>
          <input id="invite-password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-error" />
          <FieldError errors={errors} field="password" />
          <button type="submit">Join</button>
        </form>
      </section>
    </Layout>
  );
}

const GONE: Record<string, string> = {
  unknown: "This link is not valid. Check that it was copied whole, or ask an admin for a new one.",
  expired: "This invitation has expired. Ask an admin for a new one.",
  used: "This invitation was already used. Sign in instead, or ask an admin for a new one.",
  revoked: "This invitation was revoked. Ask an admin for a new one.",
  reset: "This link is not valid any more: it was used, it expired (after 30 minutes), or it was copied incompletely. Ask the operator for a new one.",
};

export function LinkGonePage(props: { reason: keyof typeof GONE | string }): JSX.Element {
  return (
    <Layout title="Link not valid">
      <section class="card narrow stack">
        <h1>This link does not work</h1>
        <p safe>{GONE[props.reason] ?? GONE.unknown}</p>
        <p>
          <a href="/sign-in">Sign in</a>
        </p>
      </section>
    </Layout>
  );
}

export type ResetPageProps = { token: string; email: string; errors?: Record<string, string> };

export function ResetPasswordPage(props: ResetPageProps): JSX.Element {
  const errors = props.errors ?? {};
  return (
    <Layout title="Set a new password">
      <section class="card narrow stack">
        <h1>Set a new password</h1>
        <p>
          For <strong safe>{props.email}</strong>. Every session of this account ends; sign in with the new password afterwards.
        </p>
        <form method="post" action="/reset-password" class="stack">
          <input type="hidden" name="token" value={props.token} />
          <label for="reset-password">New password</label>
          <input id="reset-password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-error" />
          <FieldError errors={errors} field="password" />
          <label for="reset-confirm">New password again</label>
          <input id="reset-confirm" name="confirm" type="password" autocomplete="new-password" required aria-describedby="confirm-error" />
          <FieldError errors={errors} field="confirm" />
          <button type="submit">Set password</button>
        </form>
      </section>
    </Layout>
  );
}
