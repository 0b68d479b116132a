import type { DiffPiece, FieldDiff } from "../src/connections/definition-diff.ts";

/**
 * The approved definition beside the one the upstream lists now, one row per field. Changed rows
 * are marked, and inside them what went is `<del>` and what came is `<ins>`. Every piece is upstream
 * text (hostile by assumption), so each one is escaped.
 */
export function DefinitionDiff(props: { diffs: FieldDiff[]; id: string; beforeLabel?: string; afterLabel?: string }): JSX.Element {
  return (
    <div class="table-wrap">
      <table class="definition-diff" id={props.id}>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col" safe>{props.beforeLabel ?? "Approved"}</th>
            <th scope="col" safe>{props.afterLabel ?? "Now upstream"}</th>
          </tr>
        </thead>
        <tbody>
          {props.diffs.map((d) => (
            <tr class={d.changed ? "diff-changed" : "diff-same"} data-field={d.key}>
              <th scope="row">
                <span safe>{d.label}</span>
                {d.changed ? (
                  <>
                    {" "}
                    <span class="badge badge-warn">changed</span>
                  </>
                ) : (
                  ""
                )}
              </th>
              <td class="diff-before">
                <DiffSide pieces={d.before} kind={d.kind} />
              </td>
              <td class="diff-after">
                <DiffSide pieces={d.after} kind={d.kind} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DiffSide(props: { pieces: DiffPiece[] | null; kind: FieldDiff["kind"] }): JSX.Element {
  if (props.pieces === null) return <span class="muted">(not set)</span>;
  const pieces = props.pieces;
  return props.kind === "json" ? (
    <pre class="diff-text">
      {pieces.map((p) => (
        <Piece piece={p} />
      ))}
    </pre>
  ) : (
    <div class="diff-text">
      {pieces.map((p) => (
        <Piece piece={p} />
      ))}
    </div>
  );
}

function Piece(props: { piece: DiffPiece }): JSX.Element {
  const { op, text } = props.piece;
  if (op === "removed") return <del safe>{text}</del>;
  if (op === "added") return <ins safe>{text}</ins>;
  return <span safe>{text}</span>;
}
