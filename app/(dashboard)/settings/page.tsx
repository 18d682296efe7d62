import type { Metadata } from "next";
import { pageAccess } from "@/lib/require-role";
import { AccessDenied } from "@/components/access-denied";
import { SettingsView } from "@/components/settings/settings-view";
import { DrillSettingsForm } from "@/components/settings/drill-form";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const { allowed } = await pageAccess("settings.read");
  if (!allowed) return <AccessDenied role="VIEWER" />;
  return (
    <SettingsView>
      <DrillSettingsForm />
    </SettingsView>
  );
}
