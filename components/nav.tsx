"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut } from "next-auth/react";
import { Suspense, useState } from "react";
import type { SessionUser } from "@/lib/auth";
import { api } from "@/lib/hooks/api";
import { TargetSwitcher } from "@/components/targets/target-switcher";
import { useSelectedTarget } from "@/components/targets/use-selected-target";

const LINKS = [
  { href: "/overview", label: "Overview" },
  { href: "/backups", label: "Backups" },
  { href: "/restores", label: "Restores" },
  { href: "/deployments", label: "Deployments" },
  { href: "/checks", label: "Checks" },
  { href: "/audit", label: "Audit log" },
  { href: "/settings", label: "Settings" },
  { href: "/api-docs", label: "API" },
];

/** The links carry the chosen target (`?target=`), so it is kept from page to page. */
function TargetNavLinks() {
  const target = useSelectedTarget();
  return <NavLinks hrefFor={target.href} />;
}

function NavLinks({ hrefFor = (p) => p }: { hrefFor?: (path: string) => string }) {
  const path = usePathname();
  return (
    <nav aria-label="Main" className="flex flex-wrap gap-1 px-3 md:flex-col">
      {LINKS.map((l) => {
        const active = path === l.href || path.startsWith(`${l.href}/`);
        return (
          <Link
            key={l.href}
            href={hrefFor(l.href)}
            aria-current={active ? "page" : undefined}
            className={`rounded-md px-3 py-2 text-sm ${active ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100"}`}
          >
            {l.label}
          </Link>
        );
      })}
    </nav>
  );
}

export function Nav({ user }: { user: SessionUser }) {
  const [ending, setEnding] = useState(false);
  // Every session of this user (other browsers included) stops working at once; then this one signs out.
  const signOutEverywhere = async () => {
    setEnding(true);
    try {
      await api("/api/sessions/revoke", { method: "POST", json: {} });
    } finally {
      await signOut({ callbackUrl: "/login" });
    }
  };
  return (
    <aside className="flex shrink-0 flex-col border-b border-slate-200 bg-white md:min-h-screen md:w-56 md:border-b-0 md:border-r">
      <div className="px-5 py-4 text-lg font-semibold tracking-tight">Vaultline</div>
      <Suspense fallback={null}>
        <TargetSwitcher />
      </Suspense>
      <Suspense fallback={<NavLinks />}>
        <TargetNavLinks />
      </Suspense>
      <div className="mt-auto border-t border-slate-200 px-5 py-4 text-sm">
        <div className="font-medium" data-testid="current-user">
          {user.displayName}
        </div>
        <div className="truncate text-slate-500">{user.email}</div>
        <div className="mt-1 text-xs uppercase tracking-wide text-slate-400">{user.role}</div>
        <div className="mt-3 flex flex-col items-start gap-1">
          <button onClick={() => signOut({ callbackUrl: "/login" })} className="text-sm text-slate-700 underline hover:text-slate-900">
            Sign out
          </button>
          <button
            onClick={() => void signOutEverywhere()}
            disabled={ending}
            className="text-sm text-slate-700 underline hover:text-slate-900 disabled:opacity-50"
          >
            Sign out everywhere
          </button>
        </div>
      </div>
    </aside>
  );
}
