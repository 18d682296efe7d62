import type { Metadata } from "next";
import { pageAccess } from "@/lib/require-role";
import { AccessDenied } from "@/components/access-denied";
import { TokensPanel } from "@/components/settings/tokens-panel";

export const metadata: Metadata = { title: "API tokens" };

export default async function TokensPage() {
  const { allowed } = await pageAccess("tokens.manage");
  if (!allowed) return <AccessDenied role="ADMIN" />;
  return <TokensPanel />;
}
