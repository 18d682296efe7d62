export function AccessDenied({ role }: { role: string }) {
  return (
    <div role="alert" className="max-w-lg rounded-lg border border-amber-300 bg-amber-50 p-6">
      <h1 className="text-lg font-semibold text-amber-900">Not allowed</h1>
      <p className="mt-1 text-sm text-amber-900">You need the {role} role to open this page. Ask an administrator.</p>
    </div>
  );
}
