import type { Metadata } from "next";
import { Suspense } from "react";
import { ChecksView } from "@/components/checks/checks-view";
import { Skeleton } from "@/components/ui/skeleton";

export const metadata: Metadata = { title: "Checks" };

export default function ChecksPage() {
  return (
    <Suspense fallback={<Skeleton className="h-48 w-full" label="Loading the checks" />}>
      <ChecksView />
    </Suspense>
  );
}
