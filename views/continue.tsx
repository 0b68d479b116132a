import { Layout } from "./layout.tsx";

/**
 * The step between a form of ours and another origin (an identity provider, an authorization
 * server, an OAuth client). It navigates on by itself (meta refresh, no script needed); the link is
 * for a browser that does not follow the refresh.
 */
export function ContinuePage(props: { destination: URL }): JSX.Element {
  const { origin, host, href } = props.destination;
  return (
    <Layout title="Continuing" refreshTo={href}>
      <section class="card narrow stack" id="continue">
        <h1>
          Continuing to <span safe>{origin}</span>…
        </h1>
        <p>
          <a class="button" href={href} id="continue-link">
            Continue to <span safe>{host}</span>
          </a>
        </p>
      </section>
    </Layout>
  );
}
