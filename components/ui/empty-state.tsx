export function EmptyState({ title, children, action }: { title: string; children?: React.ReactNode; action?: React.ReactNode }) {
  return (
    <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
      <p className="font-medium text-slate-800">{title}</p>
      {children && <div className="max-w-md text-sm text-slate-600">{children}</div>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  );
}

/** A failed request, with the server's own message and a way to try again. */
export function ErrorState({ error, onRetry, title = "Could not load this" }: { error: Error; onRetry?: () => void; title?: string }) {
  return (
    <div role="alert" className="flex flex-col items-start gap-2 rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900">
      <p>
        <span className="font-medium">{title}:</span> {error.message}
      </p>
      {onRetry && (
        <button type="button" onClick={onRetry} className="text-sm font-medium underline">
          Try again
        </button>
      )}
    </div>
  );
}
