import { Layout } from "./layout.tsx";

export type SsoTestResultProps = {
  user: { email: string; role: string };
  providerName: string;
  result: { ok: true; email: string; groups: string[]; role: string; refreshToken: boolean } | { ok: false; reason: string };
};

/** What the admin sees after the test sign-in, before going back to settings. */
export function SsoTestResultPage(props: SsoTestResultProps): JSX.Element {
  const r = props.result;
  return (
    <Layout title="Test sign-in" user={props.user} active="settings">
      <section class="card narrow stack">
        {r.ok ? (
          <>
            <h1>Single sign-on is on</h1>
            <p>
              <span safe>{props.providerName}</span> signed in <strong safe>{r.email}</strong>, who would join as <strong safe>{r.role}</strong>
              {r.groups.length > 0 ? <span safe>{` (groups: ${r.groups.join(", ")})`}</span> : " (no groups sent)"}.
            </p>
            <p class="muted">
              {r.refreshToken
                ? "The provider issues refresh tokens, so members are re-checked there regularly."
                : "The provider issued no refresh token: without SCIM, members who leave keep their gateway sessions until they expire."}
            </p>
          </>
        ) : (
          <>
            <h1>The test sign-in did not work</h1>
            <p safe>{r.reason}</p>
            <p class="muted">Single sign-on stays off. Fix the settings or the provider, then test again.</p>
          </>
        )}
        <p>
          <a href="/settings">Back to settings</a>
        </p>
      </section>
    </Layout>
  );
}
