export default function BackupsPage() {
  return <h1 className="text-2xl font-semibold">Backups</h1>;
}
