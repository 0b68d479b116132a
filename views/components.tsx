import { escapeHtml } from "@kitajs/html";
import type { ConnectionMeta } from "../src/connections/types.ts";
import { STATUS_LABEL } from "../src/connections/status.ts";
import { FieldError } from "./layout.tsx";
import { formatRelative, formatTime } from "./format.ts";
import type { AuthKindId } from "../src/connections/auth-kinds/list.ts";
import type { AnyAuthKind } from "../src/connections/auth-kinds/registry.ts";
import type { FormSection, HintText } from "../src/connections/auth-kinds/types.ts";

const BADGE_CLASS: Record<ConnectionMeta["status"], string> = {
  connected: "badge badge-ok",
  needs_reauth: "badge badge-warn",
  error: "badge badge-error",
  paused: "badge badge-muted",
};

export function StatusBadge(props: { connection: Pick<ConnectionMeta, "status" | "pausedUntil"> }): JSX.Element {
  const { status, pausedUntil } = props.connection;
  const label = status === "paused" && pausedUntil !== null ? `${STATUS_LABEL.paused} · retries ${formatTime(pausedUntil)}` : STATUS_LABEL[status];
  return (
    <span class={BADGE_CLASS[status]} safe>
      {label}
    </span>
  );
}

export function Time(props: { ms: number | null; never?: string }): JSX.Element {
  if (props.ms === null) return <span safe>{props.never ?? "never"}</span>;
  return (
    <time datetime={new Date(props.ms).toISOString()} safe>
      {formatTime(props.ms)}
    </time>
  );
}

/** "3 min ago", the exact time on hover and for assistive tech (the `datetime` and `title`). */
export function RelativeTime(props: { ms: number | null; now: number; never?: string }): JSX.Element {
  if (props.ms === null) return <span safe>{props.never ?? "never"}</span>;
  const exact = formatTime(props.ms);
  return (
    <time datetime={new Date(props.ms).toISOString()} title={exact} safe>
      {formatRelative(props.ms, props.now)}
    </time>
  );
}

export type AuthFieldsProps = {
  kind: AuthKindId;
  /**
   * The kinds offered, from the one list the API validates against: Add server offers all of them;
   * re-authorizing a token connection offers only what can be pasted (it does not switch to OAuth).
   */
  kinds: readonly AnyAuthKind[];
  /** The header name is not a secret and is kept; token and value inputs always start empty. */
  header?: string;
  errors: Record<string, string>;
  legend: string;
};

/**
 * One radio per offered kind, and the inputs each kind's module lists. Which inputs show follows
 * the checked radio through CSS `:has()`, so it works without JavaScript (a browser without
 * `:has()` shows every input). Secret inputs always start empty: a 422 re-render never sends a
 * typed secret back.
 */
export function AuthFields(props: AuthFieldsProps): JSX.Element {
  return (
    <fieldset class="auth-choice stack">
      <legend safe>{props.legend}</legend>
      <div class="choices">
        {props.kinds.map((entry) => (
          <label class="choice">
            <input type="radio" name="auth" value={entry.id} checked={props.kind === entry.id} /> <span safe>{entry.label}</span>
          </label>
        ))}
      </div>
      <FieldError errors={props.errors} field="auth" />
      {props.kinds.map((entry) => (entry.formFields ? <AuthSection section={entry.formFields} header={props.header} errors={props.errors} /> : ""))}
    </fieldset>
  );
}

/** The inputs of one kind, shown while its radio is checked. */
function AuthSection(props: { section: FormSection; header: string | undefined; errors: Record<string, string> }): JSX.Element {
  const { section, errors } = props;
  return (
    <div class={`${section.className} stack`}>
      {section.intro ? (
        <p class="muted hint">
          <Hint text={section.intro} />
        </p>
      ) : (
        ""
      )}
      {section.inputs.map((input) => {
        const errorField = input.errorField === undefined ? input.name : input.errorField;
        return (
          <>
            <label for={input.id} safe>
              {input.label}
            </label>
            <input
              id={input.id}
              name={input.name}
              type={input.secret ? "password" : undefined}
              autocomplete="off"
              spellcheck="false"
              placeholder={input.placeholder}
              value={input.keep === "header" ? (props.header ?? "") : ""}
              aria-describedby={errorField === null ? undefined : input.hint ? `${errorField}-error ${input.hint.id}` : `${errorField}-error`}
              aria-invalid={errorField !== null && errors[errorField] ? "true" : undefined}
            />
            {input.hint ? (
              <p class="muted hint" id={input.hint.id}>
                <Hint text={input.hint.text} />
              </p>
            ) : (
              ""
            )}
            {errorField === null ? "" : <FieldError errors={errors} field={errorField} />}
          </>
        );
      })}
    </div>
  );
}

/** A hint's text, its code parts in `<code>`. */
function Hint(props: { text: HintText }): JSX.Element {
  return <>{props.text.map((part) => (typeof part === "string" ? escapeHtml(part) : <code safe>{part.code}</code>))}</>;
}

/** Unticked, a new server exposes nothing until its tools are picked on the next step. */
export function ExposeAllChoice(props: { checked: boolean }): JSX.Element {
  return (
    <label class="choice">
      <input type="checkbox" name="expose" value="all" checked={props.checked} /> Expose every tool at once (skip choosing them; tools the server adds later are exposed too)
    </label>
  );
}
