import type { Metadata } from "next";
import { TargetsOverview } from "@/components/targets/targets-overview";

export const metadata: Metadata = { title: "Overview" };

export default function OverviewPage() {
  return <TargetsOverview />;
}
