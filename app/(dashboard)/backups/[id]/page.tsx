import type { Metadata } from "next";
import { BackupDetailView } from "@/components/backups/backup-detail";

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { id } = await params;
  return { title: `Backup ${id.slice(0, 8)}` };
}

export default async function BackupPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <BackupDetailView id={id} />;
}
