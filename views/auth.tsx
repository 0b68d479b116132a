import { FieldError, Layout } from "./layout.tsx";

export type AuthFormProps = { email?: string; errors?: Record<string, string> };

export function SetupPage(props: AuthFormProps): JSX.Element {
  return (
    <Layout title="Set up">
      <section class="card narrow">
        <h1>Set up MCP Gateway</h1>
        <p>Create the owner account and the first workspace. This page is shown only once.</p>
        <SetupForm {...props} />
      </section>
    </Layout>
  );
}

export function SetupForm(props: AuthFormProps): JSX.Element {
  const errors = props.errors ?? {};
  return (
    <form id="setup-form" method="post" action="/setup" hx-post="/setup" hx-target="this" hx-swap="outerHTML" class="stack">
      <FieldError errors={errors} field="form" />
      <label for="workspace">Workspace name</label>
      <input id="workspace" name="workspace" value="Default" maxlength="64" />
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ""} aria-describedby="email-error" />
      <FieldError errors={errors} field="email" />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-error" />
      <FieldError errors={errors} field="password" />
      <button type="submit">Create owner account</button>
    </form>
  );
}

export function SignInPage(props: AuthFormProps & { sso?: { name: string; href: string }[] }): JSX.Element {
  return (
    <Layout title="Sign in">
      <section class="card narrow">
        <h1>Sign in</h1>
        {(props.sso ?? []).map((p) => (
          <p>
            <a class="button" href={p.href}>
              Sign in with <span safe>{p.name}</span>
            </a>
          </p>
        ))}
        <SignInForm {...props} />
      </section>
    </Layout>
  );
}

export function SignInForm(props: AuthFormProps): JSX.Element {
  const errors = props.errors ?? {};
  return (
    <form id="sign-in-form" method="post" action="/sign-in" hx-post="/sign-in" hx-target="this" hx-swap="outerHTML" class="stack">
      <FieldError errors={errors} field="form" />
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ""} />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <button type="submit">Sign in</button>
    </form>
  );
}

export function ErrorPage(props: { status: number; message: string; signedIn: boolean }): JSX.Element {
  return (
    <Layout title={`Error ${props.status}`}>
      <section class="card narrow">
        <h1 safe>{String(props.status)}</h1>
        <p safe>{props.message}</p>
        <p>
          <a href="/">Back to the dashboard</a>
        </p>
      </section>
    </Layout>
  );
}
