"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useCan } from "@/components/user-context";

/** Sub-navigation of /settings; the ADMIN-only pages are listed for ADMINs only. */
export function SettingsTabs() {
  const path = usePathname();
  const admin = useCan("users.manage");
  const tabs = [
    { href: "/settings", label: "General" },
    { href: "/settings/targets", label: "Targets" },
    ...(admin
      ? [
          { href: "/settings/tokens", label: "API tokens" },
          { href: "/settings/users", label: "Users" },
        ]
      : []),
  ];
  return (
    <nav aria-label="Settings" className="mb-6 flex gap-1 overflow-x-auto border-b border-slate-200">
      {tabs.map((t) => {
        const active = path === t.href;
        return (
          <Link
            key={t.href}
            href={t.href}
            aria-current={active ? "page" : undefined}
            className={`-mb-px whitespace-nowrap border-b-2 px-3 py-2 text-sm ${active ? "border-sky-700 font-medium text-slate-900" : "border-transparent text-slate-600 hover:text-slate-900"}`}
          >
            {t.label}
          </Link>
        );
      })}
    </nav>
  );
}
