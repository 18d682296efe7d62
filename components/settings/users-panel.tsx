"use client";
// Users: role and enabled state per row, and a form to add one. The server refuses to
// demote or disable the last active admin, so that row offers neither.
import { useState } from "react";
import { useCreateUser, useUpdateUser, useUsersQuery } from "@/lib/hooks/use-users";
import { Button } from "@/components/ui/button";
import { Field, SelectField } from "@/components/ui/field";
import { useToast } from "@/components/ui/toast";
import { ROLES } from "@/lib/permissions";

export function UsersPanel() {
  const users = useUsersQuery();
  const create = useCreateUser();
  const update = useUpdateUser();
  const toast = useToast();
  const [error, setError] = useState<string | null>(null);

  async function onCreate(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    setError(null);
    try {
      await create.mutateAsync({
        email: String(f.get("email")),
        displayName: String(f.get("displayName")),
        role: f.get("role") as "VIEWER",
        password: String(f.get("password")),
      });
      form.reset();
      toast("User created");
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const activeAdmins = users.data?.users.filter((u) => u.role === "ADMIN" && !u.disabledAt) ?? [];
  const isLastAdmin = (u: { id: string; role: string; disabledAt: string | null }) => activeAdmins.length === 1 && activeAdmins[0].id === u.id;

  return (
    <section className="flex max-w-4xl flex-col gap-6">
      <h1 className="text-2xl font-semibold">Users</h1>
      {users.isPending ? (
        <div className="h-24 animate-pulse rounded-md bg-slate-200" aria-label="Loading users" />
      ) : users.isError ? (
        <p role="alert" className="text-red-700">{users.error.message}</p>
      ) : (
        <div className="relative overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="w-full text-left text-sm">
            <thead className="bg-slate-50 text-xs uppercase text-slate-500">
              <tr>
                <th className="px-4 py-2">Name</th>
                <th className="px-4 py-2">Email</th>
                <th className="px-4 py-2">Role</th>
                <th className="px-4 py-2">State</th>
                <th className="px-4 py-2"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((u) => {
                const last = isLastAdmin(u);
                return (
                <tr key={u.id} className="border-t border-slate-100" data-user-email={u.email}>
                  <td className="px-4 py-2">{u.displayName}</td>
                  <td className="px-4 py-2">{u.email}</td>
                  <td className="px-4 py-2">
                    <label className="sr-only" htmlFor={`role-${u.id}`}>Role of {u.email}</label>
                    {last ? (
                      <span className="inline-flex flex-col">
                        <span id={`role-${u.id}`} className="font-medium">ADMIN</span>
                        <span className="text-xs text-slate-500" data-testid="last-admin-note">The only active admin: make another admin first to change this.</span>
                      </span>
                    ) : (
                    <select
                      id={`role-${u.id}`}
                      value={u.role}
                      className="rounded border border-slate-300 px-2 py-1"
                      onChange={(e) =>
                        update.mutate(
                          { id: u.id, role: e.target.value as "VIEWER" },
                          { onSuccess: () => toast("Role changed"), onError: (err) => toast(err.message, "error") },
                        )
                      }
                    >
                      {ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                    )}
                  </td>
                  <td className="px-4 py-2">{u.disabledAt ? "Disabled" : "Active"}</td>
                  <td className="px-4 py-2 text-right">
                    {!last && (
                    <Button
                      size="sm"
                      variant="secondary"
                      onClick={() =>
                        update.mutate(
                          { id: u.id, disabled: !u.disabledAt },
                          { onSuccess: () => toast(u.disabledAt ? "User enabled" : "User disabled"), onError: (err) => toast(err.message, "error") },
                        )
                      }
                    >
                      {u.disabledAt ? "Enable" : "Disable"}
                    </Button>
                    )}
                  </td>
                </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={onCreate} className="grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-2">
        <h2 className="text-lg font-medium sm:col-span-2">Add a user</h2>
        <Field label="Email" name="email" type="email" required />
        <Field label="Name" name="displayName" required />
        <SelectField id="new-role" label="Role" name="role" defaultValue="VIEWER">
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </SelectField>
        <Field label="Initial password" name="password" type="password" minLength={10} required hint="At least 10 characters" />
        {error && <p role="alert" className="text-sm text-red-700 sm:col-span-2">{error}</p>}
        <div className="sm:col-span-2">
          <Button type="submit" disabled={create.isPending}>Create user</Button>
        </div>
      </form>
    </section>
  );
}
