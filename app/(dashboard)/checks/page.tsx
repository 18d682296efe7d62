import type { Metadata } from "next";
import { ChecksView } from "@/components/checks/checks-view";

export const metadata: Metadata = { title: "Checks" };

export default function ChecksPage() {
  return <ChecksView />;
}
