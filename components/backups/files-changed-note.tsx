// The backup detail's note on the files the application changed or removed while they were
// archived (decision 168), from the manifest's files part as the API gives it.
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
/** What the application did to its files while they were archived (decision 168). */
export function FilesChangedNote({ part }: { part: Record<string, unknown> | undefined }) {
  if (!part) return null;
  const changed = isObj(part.changedWhileArchived) ? part.changedWhileArchived : null;
  const count = changed ? Number(changed.count) : 0;
  const names = changed && Array.isArray(changed.names) ? changed.names.map(String) : [];
  const removed = Number(part.removedWhileArchived ?? 0);
  if (!count && !removed) return null;
  return (
    <div data-testid="files-changed-while-archived" className="mt-2 rounded border border-amber-300 bg-amber-50 p-2 text-xs text-amber-900">
      {count > 0 && (
        <>
          <p className="font-medium">
            {count === 1 ? "One file was" : `${count.toLocaleString("en-US")} files were`} changed by the application while this backup archived the files; {count === 1 ? "it is" : "they are"} restored as
            read.
          </p>
          <ul className="mt-1 list-disc pl-4 [overflow-wrap:anywhere]">
            {names.map((n) => (
              <li key={n}>{n}</li>
            ))}
            {count > names.length && <li>and {(count - names.length).toLocaleString("en-US")} more</li>}
          </ul>
        </>
      )}
      {removed > 0 && (
        <p className={count > 0 ? "mt-1" : ""}>
          {removed === 1 ? "One file was" : `${removed.toLocaleString("en-US")} files were`} removed while the files were archived, and {removed === 1 ? "is" : "are"} not in it.
        </p>
      )}
    </div>
  );
}

