import type { Metadata } from "next";
import { Suspense } from "react";
import { RestoresView } from "@/components/restores/restores-view";
import { TableSkeleton } from "@/components/ui/skeleton";

export const metadata: Metadata = { title: "Restores" };

export default function RestoresPage() {
  return (
    <Suspense fallback={<TableSkeleton rows={4} label="Loading restores" />}>
      <RestoresView />
    </Suspense>
  );
}
