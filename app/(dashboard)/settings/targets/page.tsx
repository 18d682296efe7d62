import type { Metadata } from "next";
import { pageAccess } from "@/lib/require-role";
import { AccessDenied } from "@/components/access-denied";
import { TargetsPanel } from "@/components/settings/targets-panel";

export const metadata: Metadata = { title: "Targets" };

export default async function TargetsPage() {
  const { allowed } = await pageAccess("targets.read");
  if (!allowed) return <AccessDenied role="VIEWER" />;
  return <TargetsPanel />;
}
