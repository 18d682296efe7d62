import type { Metadata } from "next";
import { Suspense } from "react";
import { BackupsView } from "@/components/backups/backups-view";
import { TableSkeleton } from "@/components/ui/skeleton";

export const metadata: Metadata = { title: "Backups" };

export default function BackupsPage() {
  return (
    <Suspense fallback={<TableSkeleton rows={6} label="Loading backups" />}>
      <BackupsView />
    </Suspense>
  );
}
