import { Layout } from "./layout.tsx";

export type ConsentProps = {
  user: { email: string; role: string };
  workspaceName: string;
  client: { name: string; id: string; source: "registered" | "metadata_document" };
  /** Where the client gets its answer: the host is the part a person can check. */
  redirectUri: string;
  /** The authorization request's parameters, posted back as they came. */
  params: Record<string, string>;
};

/** "Allow <client> to use the gateway as you?" Every client-supplied string is escaped. */
export function ConsentPage(props: ConsentProps): JSX.Element {
  const redirect = new URL(props.redirectUri);
  const from = props.client.source === "metadata_document" ? new URL(props.client.id).host : null;
  return (
    <Layout title="Allow access" user={props.user}>
      <section class="card narrow stack" id="consent">
        <h1>
          Allow <span safe>{props.client.name}</span> to use the gateway?
        </h1>
        {from ? (
          <p class="muted">
            The client is described by <code safe>{from}</code>.
          </p>
        ) : (
          <p class="muted">The client registered itself with this name; the gateway cannot vouch for it.</p>
        )}
        <p>
          It will call the tools of workspace <strong safe>{props.workspaceName}</strong> as <strong safe>{props.user.email}</strong>, until you
          revoke it on the API keys page.
        </p>
        <p>
          You will be sent back to <code safe>{`${redirect.protocol}//${redirect.host}`}</code>.
        </p>
        <form method="post" action="/oauth/authorize" class="stack">
          {Object.entries(props.params).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <div>
            <button type="submit" name="decision" value="approve">
              Allow
            </button>{" "}
            <button type="submit" name="decision" value="deny" class="secondary">
              Deny
            </button>
          </div>
        </form>
      </section>
    </Layout>
  );
}

/** An authorization request that cannot be answered to its client (unknown client, bad redirect URI). */
export function AuthorizeErrorPage(props: { message: string }): JSX.Element {
  return (
    <Layout title="Authorization refused">
      <section class="card narrow">
        <h1>Authorization refused</h1>
        <p safe>{props.message}</p>
      </section>
    </Layout>
  );
}
