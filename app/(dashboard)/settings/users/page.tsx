import type { Metadata } from "next";
import { pageAccess } from "@/lib/require-role";
import { AccessDenied } from "@/components/access-denied";
import { UsersPanel } from "@/components/settings/users-panel";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  const { allowed } = await pageAccess("users.manage");
  if (!allowed) return <AccessDenied role="ADMIN" />;
  return <UsersPanel />;
}
