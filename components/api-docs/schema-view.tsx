// A JSON Schema (as the OpenAPI document has it) as nested lists of fields: type, whether
// it is required, its limits and description. References link to the schema's own
// section further down the page instead of repeating it.
type Schema = { [k: string]: unknown };

const asSchema = (v: unknown): Schema | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Schema) : null);

export const refName = (ref: string) => ref.replace("#/components/schemas/", "");

export function schemaAnchor(name: string) {
  return `schema-${name}`;
}

/** One line: `string`, `integer ≥ 1 ≤ 200`, an enum's values joined by `|`, `Backup or null`… */
function Summary({ s }: { s: Schema }) {
  if (typeof s.$ref === "string") {
    const name = refName(s.$ref);
    return (
      <a href={`#${schemaAnchor(name)}`} className="font-mono text-sky-800 underline">
        {name}
      </a>
    );
  }
  const variants = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants)) {
    const parts = variants.map(asSchema).filter((v): v is Schema => !!v);
    return (
      <span>
        {parts.map((p, i) => (
          <span key={i}>
            {i > 0 && <span className="text-slate-400"> or </span>}
            {p.type === "null" ? <span className="font-mono">null</span> : <Summary s={p} />}
          </span>
        ))}
      </span>
    );
  }
  if ("const" in s) return <span className="font-mono">{JSON.stringify(s.const)}</span>;
  if (Array.isArray(s.enum)) return <span className="font-mono">{s.enum.map((v) => JSON.stringify(v)).join(" | ")}</span>;
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : [];
  const items = asSchema(s.items);
  const limits = [
    typeof s.format === "string" && s.format,
    typeof s.minimum === "number" && `≥ ${s.minimum}`,
    typeof s.maximum === "number" && `≤ ${s.maximum}`,
    typeof s.minLength === "number" && `length ≥ ${s.minLength}`,
    typeof s.maxLength === "number" && `length ≤ ${s.maxLength}`,
    typeof s.minItems === "number" && `≥ ${s.minItems} items`,
    typeof s.maxItems === "number" && `≤ ${s.maxItems} items`,
    typeof s.pattern === "string" && `matches ${s.pattern}`,
    "default" in s && `default ${JSON.stringify(s.default)}`,
  ].filter(Boolean);
  return (
    <span>
      <span className="font-mono">
        {types.length === 0 ? "any" : types.map((t) => (t === "array" && items ? "array" : t)).join(" | ")}
      </span>
      {types.includes("array") && items && (
        <span>
          {" of "}
          <Summary s={items} />
        </span>
      )}
      {limits.length > 0 && <span className="text-slate-500"> ({limits.join(", ")})</span>}
    </span>
  );
}

/** The object inside a schema whose fields should be listed (itself, an array's items, a nullable's value). */
function objectOf(s: Schema): Schema | null {
  if (asSchema(s.properties) || asSchema(s.additionalProperties)) return s;
  const items = asSchema(s.items);
  if (items && !items.$ref) return objectOf(items);
  const variants = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants)) {
    const inline = variants.map(asSchema).filter((v): v is Schema => !!v && !v.$ref && v.type !== "null");
    if (inline.length === 1) return objectOf(inline[0]);
  }
  return null;
}

export function SchemaView({ schema, depth = 0 }: { schema: unknown; depth?: number }) {
  const s = asSchema(schema);
  if (!s) return null;
  const obj = objectOf(s);
  const props = asSchema(obj?.properties);
  const extra = asSchema(obj?.additionalProperties);
  const required = new Set(Array.isArray(obj?.required) ? (obj.required as string[]) : []);
  const variants = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  const inlineVariants = Array.isArray(variants) ? variants.map(asSchema).filter((v): v is Schema => !!v && !v.$ref && !!objectOf(v)) : [];
  return (
    <div className="text-sm">
      {depth === 0 && (
        <div>
          <Summary s={s} />
          {typeof s.description === "string" && <p className="mt-1 text-slate-600">{s.description}</p>}
        </div>
      )}
      {inlineVariants.length > 1 ? (
        <ul className="mt-1 space-y-2">
          {inlineVariants.map((v, i) => (
            <li key={i} className="border-l-2 border-slate-200 pl-3">
              <span className="text-xs uppercase tracking-wide text-slate-500">Variant {i + 1}</span>
              <SchemaView schema={v} depth={depth + 1} />
            </li>
          ))}
        </ul>
      ) : (
        (props || extra) && (
          <ul className={`mt-1 space-y-1 ${depth > 0 ? "border-l-2 border-slate-200 pl-3" : ""}`}>
            {Object.entries(props ?? {}).map(([name, raw]) => {
              const p = asSchema(raw) ?? {};
              return (
                <li key={name}>
                  <span className="font-mono font-medium text-slate-900">{name}</span>
                  {!required.has(name) && <span className="text-xs text-slate-500"> optional</span>}
                  <span className="text-slate-400"> · </span>
                  <Summary s={p} />
                  {typeof p.description === "string" && <span className="text-slate-600"> — {p.description}</span>}
                  {depth < 4 && objectOf(p) && <SchemaView schema={p} depth={depth + 1} />}
                </li>
              );
            })}
            {extra && (
              <li>
                <span className="font-mono text-slate-500">[any key]</span>
                <span className="text-slate-400"> · </span>
                <Summary s={extra} />
                {depth < 4 && objectOf(extra) && <SchemaView schema={extra} depth={depth + 1} />}
              </li>
            )}
          </ul>
        )
      )}
    </div>
  );
}
