import type { Metadata } from "next";
import { RestoreDetail } from "@/components/restores/restore-detail";

export const metadata: Metadata = { title: "Restore" };

export default async function RestorePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <RestoreDetail id={id} />;
}
