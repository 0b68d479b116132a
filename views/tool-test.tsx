import type { CallToolResult } from "@modelcontextprotocol/server";
import type { ConnectionMeta } from "../src/connections/types.ts";
import type { ToolRow } from "../src/connections/types.ts";
import { choiceLabel, type ArgField, type ArgValues } from "../src/connections/tool-form.ts";
import { Layout } from "./layout.tsx";
import { connectionPath } from "./connection.tsx";
import type { Viewer } from "../src/web/viewer.ts";

export type ToolTestProps = {
  connection: ConnectionMeta;
  tool: ToolRow;
  fields: ArgField[];
  values: ArgValues;
  errors?: Record<string, string>;
  result?: CallToolResult;
};

export function ToolTestPage(props: ToolTestProps & { user: Viewer }): JSX.Element {
  const { connection: c, tool } = props;
  return (
    <Layout title={`Test ${tool.exposedName}`} user={props.user} active="connections">
      <p>
        <a href={connectionPath(c)}>
          ← <span safe>{c.name}</span>
        </a>
      </p>
      <h1>
        Test <code safe>{tool.exposedName}</code>
      </h1>
      {tool.title ? (
        <p class="tool-title" safe>
          {tool.title}
        </p>
      ) : (
        ""
      )}
      {tool.description ? (
        <p class="tool-desc long" safe>
          {tool.description}
        </p>
      ) : (
        ""
      )}
      {tool.enabled ? "" : <p class="status-detail">This tool is turned off, so the gateway refuses calls to it. Turn it on to test it.</p>}
      <ToolTestPanel {...props} />
    </Layout>
  );
}

/** The form and the last result: a run replaces both, so the typed values stay beside the result. */
export function ToolTestPanel(props: ToolTestProps): JSX.Element {
  const action = `${connectionPath(props.connection)}/test?tool=${encodeURIComponent(props.tool.name)}`;
  const errors = props.errors ?? {};
  return (
    <div id="tool-test" class="stack">
      <form method="post" action={action} hx-post={action} hx-target="#tool-test" hx-swap="outerHTML" hx-disable="find button" class="card stack" novalidate>
        <h2>Arguments</h2>
        {props.fields.length === 0 ? <p class="muted">This tool takes no arguments.</p> : ""}
        {props.fields.map((field) => (
          <ArgInput field={field} value={props.values[field.input] ?? ""} error={errors[field.input]} />
        ))}
        <div class="actions">
          <button type="submit" id="run-tool">
            Run through the gateway <span class="spinner htmx-indicator" aria-hidden="true"></span>
          </button>
          <span class="muted htmx-indicator">Calling…</span>
        </div>
      </form>
      {props.result ? <ToolResultView result={props.result} /> : ""}
    </div>
  );
}

function ArgInput(props: { field: ArgField; value: string; error: string | undefined }): JSX.Element {
  const { field, value, error } = props;
  const id = field.input;
  const described = [field.description ? `${id}-help` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  // A checkbox group is named by its label through aria-labelledby (a label can point at one input only).
  const label = (
    <label for={field.kind === "choices" ? undefined : id} id={`${id}-label`}>
      <code safe>{field.key}</code>
      {field.title ? <span class="muted" safe>{` · ${field.title}`}</span> : ""}
      {field.required ? <span class="required"> (required)</span> : ""}
      <span class="muted kind" safe>{` ${kindHint(field)}`}</span>
    </label>
  );
  let input: JSX.Element;
  switch (field.kind) {
    case "boolean":
      input = <input id={id} name={id} type="checkbox" value="true" checked={value === "true"} aria-describedby={described} />;
      break;
    case "enum":
      input = (
        <select id={id} name={id} aria-describedby={described} aria-invalid={error ? "true" : undefined}>
          <option value="" selected={value === ""}>
            {field.required ? "Choose…" : "(not set)"}
          </option>
          {field.choices.map((choice, i) => (
            <option value={String(i)} selected={value === String(i)} safe>
              {choiceLabel(choice)}
            </option>
          ))}
        </select>
      );
      break;
    case "choices": {
      const ticked = new Set(value.split(",").filter((v) => v !== ""));
      input = (
        <fieldset class="choice-list" aria-labelledby={`${id}-label`} aria-describedby={described}>
          {field.choices.map((choice, i) => (
            <label class="choice">
              <input type="checkbox" id={i === 0 ? id : `${id}-${i}`} name={id} value={String(i)} checked={ticked.has(String(i))} /> <span safe>{choiceLabel(choice)}</span>
            </label>
          ))}
        </fieldset>
      );
      break;
    }
    case "json":
      input = (
        <textarea id={id} name={id} rows="4" spellcheck="false" class="code" aria-describedby={described} aria-invalid={error ? "true" : undefined} safe>
          {value}
        </textarea>
      );
      break;
    default:
      input = (
        <input
          id={id}
          name={id}
          type={field.kind === "text" ? "text" : "number"}
          step={field.kind === "integer" ? "1" : field.kind === "number" ? "any" : undefined}
          value={value}
          aria-describedby={described}
          aria-invalid={error ? "true" : undefined}
        />
      );
  }
  return (
    <div class={field.kind === "boolean" ? "field field-check" : "field stack"}>
      {field.kind === "boolean" ? (
        <>
          {input}
          {label}
        </>
      ) : (
        <>
          {label}
          {input}
        </>
      )}
      {field.description ? (
        <p class="muted hint" id={`${id}-help`} safe>
          {field.description}
        </p>
      ) : (
        ""
      )}
      {error ? (
        <p class="field-error" id={`${id}-error`} role="alert" safe>
          {error}
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

function kindHint(field: ArgField): string {
  switch (field.kind) {
    case "json":
      return field.expects === "array" ? "JSON array" : field.expects === "object" ? "JSON object" : "JSON";
    case "integer":
      return "whole number";
    case "enum":
      return "one of";
    case "choices":
      return "any of";
    default:
      return field.kind === "text" ? "text" : field.kind;
  }
}

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_SHOWN = 64 * 1024;

function pretty(value: unknown): string {
  const json = JSON.stringify(value, null, 2) ?? String(value);
  return json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN)}\n… (cut at ${MAX_SHOWN} characters)` : json;
}

/** Text as text, structured content as JSON, only raster images inline; everything escaped. */
export function ToolResultView(props: { result: CallToolResult }): JSX.Element {
  const { result } = props;
  const blocks = Array.isArray(result.content) ? result.content : [];
  return (
    <section class={result.isError ? "card stack result result-error" : "card stack result"} aria-labelledby="result-title" role={result.isError ? "alert" : "status"}>
      <h2 id="result-title">{result.isError ? "The tool returned an error" : "Result"}</h2>
      {blocks.length === 0 ? <p class="muted">No content.</p> : ""}
      {blocks.map((block) => (
        <ContentBlock block={block as Record<string, unknown>} />
      ))}
      {result.structuredContent !== undefined ? (
        <>
          <h3>Structured content</h3>
          <pre class="result-json" safe>{pretty(result.structuredContent)}</pre>
        </>
      ) : (
        ""
      )}
    </section>
  );
}

function ContentBlock(props: { block: Record<string, unknown> }): JSX.Element {
  const { block } = props;
  if (block.type === "text" && typeof block.text === "string") {
    return <pre class="result-text" safe>{block.text.length > MAX_SHOWN ? `${block.text.slice(0, MAX_SHOWN)}…` : block.text}</pre>;
  }
  if (block.type === "image" && typeof block.mimeType === "string" && typeof block.data === "string") {
    if (IMAGE_TYPES.has(block.mimeType) && block.data.length <= 4 * 1024 * 1024 && BASE64.test(block.data)) {
      return <img class="result-image" src={`data:${block.mimeType};base64,${block.data}`} alt="Returned by the tool" />;
    }
    return <p class="muted" safe>{`An image of type ${block.mimeType.slice(0, 100)} was returned; only PNG, JPEG, GIF and WebP images are shown.`}</p>;
  }
  const { data: _data, blob: _blob, ...rest } = block;
  return (
    <div class="stack">
      <p class="muted" safe>{`A ${String(block.type).slice(0, 40)} block${_data !== undefined || _blob !== undefined ? " (binary data not shown)" : ""}:`}</p>
      <pre class="result-json" safe>{pretty(rest)}</pre>
    </div>
  );
}
