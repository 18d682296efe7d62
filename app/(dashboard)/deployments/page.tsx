import type { Metadata } from "next";
import { Suspense } from "react";
import { DeploymentsView } from "@/components/deployments/deployments-view";
import { TableSkeleton } from "@/components/ui/skeleton";

export const metadata: Metadata = { title: "Deployments" };

export default function DeploymentsPage() {
  return (
    <Suspense fallback={<TableSkeleton rows={6} label="Loading deployments" />}>
      <DeploymentsView />
    </Suspense>
  );
}
