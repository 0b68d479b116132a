import { Layout } from "./layout.tsx";

export function HomePage(props: { user: { email: string; role: string }; mcpUrl: string }): JSX.Element {
  return (
    <Layout title="Connections" user={props.user} active="connections">
      <h1>MCP Gateway</h1>
      <section class="card">
        <h2>Your endpoint</h2>
        <p>
          Point any MCP client at <code safe>{props.mcpUrl}</code> with a gateway API key.
        </p>
        <p>
          <a class="button" href="/keys">Create an API key</a>
        </p>
      </section>
    </Layout>
  );
}
