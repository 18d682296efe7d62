"use client";
// Settings → Encryption keys (issue 16, ADMIN): which key encrypts, which backups still
// need which key, the move to the current key with its progress, and — embedded mode —
// rotation (the new passphrase shown once) and retiring a key nothing needs any more.
import { useState } from "react";
import Link from "next/link";
import { useKeysQuery, useReencrypt, useRetireKey, useRotateKey } from "@/lib/hooks/use-keys";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { Dialog } from "@/components/ui/dialog";
import { TypedConfirm } from "@/components/ui/typed-confirm";
import { CopyButton } from "@/components/ui/copy-button";
import { Progress } from "@/components/ui/progress";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { TableSkeleton } from "@/components/ui/skeleton";
import { ErrorState } from "@/components/ui/empty-state";
import { useToast } from "@/components/ui/toast";
import { formatBytes, plural } from "@/lib/format";

function NewPassphrase({ keyId, passphrase, onDone }: { keyId: string; passphrase: string; onDone: () => void }) {
  return (
    <div role="alert" data-testid="new-key-passphrase" className="flex flex-col gap-2 rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-950">
      <p className="font-medium">Copy the new passphrase (key {keyId}) somewhere safe now. It will not be shown again.</p>
      <p className="text-sm">
        Backups made from now on cannot be decrypted without it — not even with stock gpg. The previous key still decrypts older backups until you
        re-encrypt them and retire it.
      </p>
      <div className="flex items-center gap-2 rounded-md border border-amber-200 bg-white px-3 py-2">
        <code className="min-w-0 flex-1 break-all font-mono text-sm text-slate-900" data-testid="key-passphrase">
          {passphrase}
        </code>
        <CopyButton value={passphrase} label="Copy passphrase" />
      </div>
      <div>
        <Button variant="secondary" size="sm" onClick={onDone}>
          I have copied it somewhere safe
        </Button>
      </div>
    </div>
  );
}

export function KeysPanel() {
  const q = useKeysQuery();
  const reencrypt = useReencrypt();
  const rotate = useRotateKey();
  const retire = useRetireKey();
  const toast = useToast();
  const [rotating, setRotating] = useState(false);
  const [word, setWord] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [retiring, setRetiring] = useState<string | null>(null);
  const [created, setCreated] = useState<{ keyId: string; passphrase: string } | null>(null);

  async function onRotate() {
    setError(null);
    try {
      const r = await rotate.mutateAsync(word);
      setCreated(r);
      setRotating(false);
      setWord("");
    } catch (e) {
      setError((e as Error).message);
    }
  }
  async function onRetire() {
    if (!retiring) return;
    setError(null);
    try {
      await retire.mutateAsync({ keyId: retiring, confirm: word });
      toast(`Key ${retiring} retired`);
      setRetiring(null);
      setWord("");
    } catch (e) {
      setError((e as Error).message);
    }
  }
  async function onReencrypt() {
    try {
      const r = await reencrypt.mutateAsync({ all: true });
      toast(r.count ? `Re-encrypting ${plural(r.count, "backup")} with the current key` : "Every backup is already on the current key");
    } catch (e) {
      toast((e as Error).message, "error");
    }
  }

  return (
    <section aria-labelledby="keys-heading" className="flex flex-col gap-4 rounded-lg border border-slate-200 bg-white p-5" data-testid="keys-panel">
      <div>
        <h2 id="keys-heading" className="text-lg font-semibold">
          Encryption keys
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          The current key encrypts new backups; older keys still decrypt the backups made with them. A key can be retired once no backup needs it.
        </p>
      </div>
      {created && <NewPassphrase keyId={created.keyId} passphrase={created.passphrase} onDone={() => setCreated(null)} />}
      {q.isPending ? (
        <TableSkeleton rows={2} label="Loading keys" />
      ) : q.isError ? (
        <ErrorState title="Could not load the keys" error={q.error} onRetry={() => q.refetch()} />
      ) : (
        <>
          {q.data.recipient && (
            <p className="text-sm text-slate-700" data-testid="write-only-note">
              Write-only backups: encrypted to the public key <code className="text-xs">{q.data.recipient}</code>. This server cannot read them; restores
              ask for the private key.
            </p>
          )}
          <Table label="Encryption keys">
            <THead>
              <Th>Key</Th>
              <Th>Kind</Th>
              <Th>Backups that need it</Th>
              <Th>
                <span className="sr-only">Actions</span>
              </Th>
            </THead>
            <tbody>
              {q.data.keys.map((k) => (
                <tr key={k.id} className="h-14 border-t border-slate-100" data-testid={`key-${k.id}`}>
                  <Td>
                    <code className="text-xs">{k.id}</code>{" "}
                    {k.current && <Badge tone="green">current</Badge>}
                    {!k.configured && <Badge tone="red">not configured here</Badge>}
                  </Td>
                  <Td>{k.kind === "public-key" ? "public key" : "passphrase"}</Td>
                  <Td className="whitespace-normal">
                    {k.backups === 0 ? (
                      <span className="text-slate-500">none</span>
                    ) : (
                      <span>
                        {k.backups}:{" "}
                        {k.backupIds.map((id, i) => (
                          <span key={id}>
                            {i > 0 && ", "}
                            <Link className="text-sky-700 underline" href={`/backups/${id}`}>
                              {id.slice(0, 10)}
                            </Link>
                          </span>
                        ))}
                        {k.backups > k.backupIds.length && " …"}
                      </span>
                    )}
                  </Td>
                  <Td className="text-right">
                    {!k.current && k.backups === 0 && q.data.rotatable && (
                      <Button variant="secondary" size="sm" onClick={() => (setRetiring(k.id), setWord(""), setError(null))}>
                        Retire
                      </Button>
                    )}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
          {q.data.reencryptions.map((r) => (
            <div key={r.backupId} className="flex flex-col gap-1" data-testid="reencrypt-progress">
              <p className="text-sm text-slate-700">
                Re-encrypting {r.backupId.slice(0, 10)}: {formatBytes(r.bytesDone)} of {formatBytes(r.bytesTotal)}
              </p>
              <Progress value={r.bytesTotal ? r.bytesDone / r.bytesTotal : null} label={`Re-encrypting backup ${r.backupId}`} />
            </div>
          ))}
          <div className="flex flex-wrap items-center gap-3">
            <Button onClick={onReencrypt} disabled={reencrypt.isPending || q.data.notOnCurrentKey === 0} data-testid="reencrypt-all">
              {q.data.notOnCurrentKey === 0 ? "Every backup is on the current key" : `Re-encrypt ${plural(q.data.notOnCurrentKey, "backup")} with the current key`}
            </Button>
            {q.data.rotatable && (
              <Button variant="secondary" onClick={() => (setRotating(true), setWord(""), setError(null))} data-testid="rotate-key">
                Rotate the key…
              </Button>
            )}
          </div>
          {!q.data.rotatable && !q.data.recipient && (
            <p className="text-sm text-slate-500">
              The keys come from the environment: to rotate, set <code className="text-xs">BACKUP_ENCRYPTION_PASSPHRASE</code> to a new passphrase, add the
              old one to <code className="text-xs">BACKUP_ENCRYPTION_OLD_PASSPHRASES</code>, and restart.
            </p>
          )}
        </>
      )}
      <Dialog open={rotating} onClose={() => setRotating(false)} title="Rotate the encryption key" testId="rotate-dialog">
        <TypedConfirm
          word="ROTATE"
          value={word}
          onChange={setWord}
          onConfirm={onRotate}
          onCancel={() => setRotating(false)}
          pending={rotate.isPending}
          error={error}
          action="Rotate"
          pendingAction="Rotating…"
        >
          <p className="text-sm text-slate-700">
            A new passphrase is generated and shown once; new backups are encrypted with it. The current key keeps decrypting the backups made with it.
          </p>
        </TypedConfirm>
      </Dialog>
      <Dialog open={!!retiring} onClose={() => setRetiring(null)} title={`Retire key ${retiring ?? ""}`} testId="retire-dialog">
        <TypedConfirm
          word="RETIRE"
          value={word}
          onChange={setWord}
          onConfirm={onRetire}
          onCancel={() => setRetiring(null)}
          pending={retire.isPending}
          error={error}
          action="Retire"
          pendingAction="Retiring…"
        >
          <p className="text-sm text-slate-700">No backup needs this key any more. Once retired, Vaultline forgets it.</p>
        </TypedConfirm>
      </Dialog>
    </section>
  );
}
