import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditView } from "@/components/audit/audit-view";
import { TableSkeleton } from "@/components/ui/skeleton";

export const metadata: Metadata = { title: "Audit log" };

export default function AuditPage() {
  return (
    <Suspense fallback={<TableSkeleton rows={8} label="Loading audit events" />}>
      <AuditView />
    </Suspense>
  );
}
