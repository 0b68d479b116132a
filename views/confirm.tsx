import type { Viewer } from "../src/web/viewer.ts";
import { Layout, type NavItem } from "./layout.tsx";

/**
 * Without JavaScript a change is asked about on a page of its own before it happens (members,
 * profiles). `back`: the page it belongs to (Cancel returns there; its tab is the current one).
 */
export function ConfirmPage(props: { user: Viewer; question: string; action: string; fields: Record<string, string>; label: string; back: { href: string; tab: NavItem } }): JSX.Element {
  const back = props.back;
  return (
    <Layout title="Confirm" user={props.user} active={back.tab}>
      <section class="card narrow stack">
        <h1>Confirm</h1>
        <p safe>{props.question}</p>
        <form method="post" action={props.action} class="inline">
          {Object.entries(props.fields).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <input type="hidden" name="confirmed" value="yes" />
          <button type="submit" class="danger" safe>
            {props.label}
          </button>
        </form>{" "}
        <a href={back.href}>Cancel</a>
      </section>
    </Layout>
  );
}
