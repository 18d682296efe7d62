// The OpenAPI document, readable: operations grouped by tag with who may call them, their
// parameters, request body and answers; the shared schemas at the end. Rendered on the
// server from the same object GET /api/openapi.json serves.
import { Fragment } from "react";
import { Badge, type Tone } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import type { openApiDocument } from "@/lib/openapi/document";
import { SchemaView, schemaAnchor } from "./schema-view";

type Doc = ReturnType<typeof openApiDocument>;
type Json = { [k: string]: unknown };

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const methodTone: Record<(typeof METHODS)[number], Tone> = { get: "blue", post: "green", put: "amber", patch: "amber", delete: "red" };

/** Descriptions use `code` spans; everything else is plain text. */
function Text({ text }: { text: string }) {
  return (
    <>
      {text.split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part, i) =>
        part.startsWith("`") ? (
          <code key={i} className="rounded bg-slate-100 px-1 font-mono text-[0.85em]">
            {part.slice(1, -1)}
          </code>
        ) : part.startsWith("**") ? (
          <strong key={i}>{part.slice(2, -2)}</strong>
        ) : (
          <Fragment key={i}>{part}</Fragment>
        ),
      )}
    </>
  );
}

function Paragraphs({ text }: { text?: unknown }) {
  if (typeof text !== "string") return null;
  return (
    <>
      {text.split("\n\n").map((p, i) => (
        <p key={i} className="mt-1 text-sm text-slate-700">
          <Text text={p} />
        </p>
      ))}
    </>
  );
}

function Operation({ method, path, op }: { method: (typeof METHODS)[number]; path: string; op: Json }) {
  const params = (op.parameters as Json[] | undefined) ?? [];
  const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  const responses = Object.entries((op.responses as Record<string, Json>) ?? {});
  const id = String(op.operationId);
  return (
    <section id={id} aria-labelledby={`${id}-title`} className="rounded-lg border border-slate-200 bg-white p-4" data-testid="api-operation">
      <h3 id={`${id}-title`} className="flex flex-wrap items-center gap-2">
        <Badge tone={methodTone[method]}>{method.toUpperCase()}</Badge>
        <span className="font-mono text-sm font-semibold text-slate-900">{path}</span>
        <span className="text-sm text-slate-600">{String(op.summary ?? "")}</span>
      </h3>
      <Paragraphs text={op.description} />
      {params.length > 0 && (
        <div className="mt-3">
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Parameters</h4>
          <ul className="mt-1 space-y-1 text-sm">
            {params.map((p) => (
              <li key={`${p.in}-${p.name}`}>
                <span className="font-mono font-medium">{String(p.name)}</span>
                <span className="text-xs text-slate-500"> in {String(p.in)}{p.required ? "" : ", optional"}</span>
                <span className="text-slate-400"> · </span>
                <SchemaView schema={p.schema} />
              </li>
            ))}
          </ul>
        </div>
      )}
      {body && (
        <div className="mt-3">
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Request body</h4>
          {Object.entries(body).map(([type, media]) => (
            <div key={type} className="mt-1">
              <div className="font-mono text-xs text-slate-500">{type}</div>
              <SchemaView schema={media.schema} />
            </div>
          ))}
        </div>
      )}
      <div className="mt-3">
        <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Responses</h4>
        <dl className="mt-1 space-y-2 text-sm">
          {responses.map(([status, r]) => {
            const content = r.content as Record<string, Json> | undefined;
            return (
              <div key={status} className="grid grid-cols-[4.5rem_1fr] gap-2">
                <dt className="font-mono font-medium">{status}</dt>
                <dd>
                  <Text text={String(r.description ?? "")} />
                  {content &&
                    Object.entries(content).map(([type, media]) =>
                      type === "application/json" ? (
                        <div key={type} className="mt-1">
                          <SchemaView schema={media.schema} />
                        </div>
                      ) : (
                        <div key={type} className="font-mono text-xs text-slate-500">
                          {type}
                        </div>
                      ),
                    )}
                </dd>
              </div>
            );
          })}
        </dl>
      </div>
    </section>
  );
}

export function ApiDocs({ doc }: { doc: Doc }) {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((m) => {
      const op = (item as Record<string, Json | undefined>)[m];
      return op ? [{ method: m, path, op }] : [];
    }),
  );
  const tags = (doc.tags ?? []).map((t) => ({ ...t, ops: ops.filter((o) => (o.op.tags as string[] | undefined)?.[0] === t.name) }));
  const schemes = Object.entries(doc.components?.securitySchemes ?? {}) as unknown as [string, Json][];
  const schemas = Object.entries(doc.components?.schemas ?? {}).sort(([a], [b]) => a.localeCompare(b));
  // openapi-typescript's CLI sends no Authorization header, so the file is fetched first.
  const command =
    'curl -fsS -H "Authorization: Bearer $VAULTLINE_TOKEN" "$VAULTLINE_URL/api/openapi.json" -o vaultline.openapi.json && npx openapi-typescript vaultline.openapi.json -o vaultline.d.ts';
  return (
    <div className="max-w-5xl">
      <h1 className="text-2xl font-semibold tracking-tight">API</h1>
      <div className="mt-2 text-sm text-slate-700">
        <Paragraphs text={doc.info.description} />
        <p className="mt-2">
          The OpenAPI {doc.openapi} document:{" "}
          <a href="/api/openapi.json" className="font-mono text-sky-800 underline">
            /api/openapi.json
          </a>{" "}
          (any signed-in user or API token). CI can generate a typed client from it, for example:
        </p>
        <div className="mt-1 flex items-center gap-2 rounded-md bg-slate-900 px-3 py-2 font-mono text-xs text-slate-100">
          <span className="min-w-0 flex-1 overflow-x-auto whitespace-nowrap">{command}</span>
          <CopyButton value={command} label="Copy command" className="text-slate-300 hover:bg-slate-700 hover:text-white" />
        </div>
        <p className="mt-1 text-xs text-slate-500">Any API token will do (Settings → API tokens); calling the gate needs the deploy scope. See docs/operations.md.</p>
      </div>

      <nav aria-label="API sections" className="mt-4 flex flex-wrap gap-2 text-sm">
        {tags.map((t) => (
          <a key={t.name} href={`#tag-${t.name.replace(/\W+/g, "-")}`} className="rounded-md border border-slate-200 px-2 py-1 text-slate-700 hover:bg-slate-100">
            {t.name} ({t.ops.length})
          </a>
        ))}
        <a href="#schemas" className="rounded-md border border-slate-200 px-2 py-1 text-slate-700 hover:bg-slate-100">
          Schemas
        </a>
      </nav>

      <section className="mt-6" aria-labelledby="auth-title">
        <h2 id="auth-title" className="text-lg font-semibold">Authentication</h2>
        <dl className="mt-2 space-y-2 text-sm">
          {schemes.map(([name, s]) => (
            <div key={name}>
              <dt className="font-mono font-medium">{name}</dt>
              <dd className="text-slate-700">
                <Text text={String(s.description ?? "")} />
              </dd>
            </div>
          ))}
        </dl>
      </section>

      {tags.map((t) => (
        <section key={t.name} id={`tag-${t.name.replace(/\W+/g, "-")}`} className="mt-8" aria-labelledby={`tag-${t.name.replace(/\W+/g, "-")}-title`}>
          <h2 id={`tag-${t.name.replace(/\W+/g, "-")}-title`} className="text-lg font-semibold">
            {t.name}
          </h2>
          {t.description && <p className="text-sm text-slate-600">{t.description}</p>}
          <div className="mt-3 space-y-3">
            {t.ops.map((o) => (
              <Operation key={`${o.method} ${o.path}`} {...o} />
            ))}
          </div>
        </section>
      ))}

      <section id="schemas" className="mt-10" aria-labelledby="schemas-title">
        <h2 id="schemas-title" className="text-lg font-semibold">Schemas</h2>
        <div className="mt-3 space-y-3">
          {schemas.map(([name, s]) => (
            <section key={name} id={schemaAnchor(name)} className="rounded-lg border border-slate-200 bg-white p-4" aria-label={name}>
              <h3 className="font-mono text-sm font-semibold">{name}</h3>
              <SchemaView schema={s} />
            </section>
          ))}
        </div>
      </section>
    </div>
  );
}
