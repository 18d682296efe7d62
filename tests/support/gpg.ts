// Stock gpg, in a throwaway GNUPGHOME, to prove archives open without Vaultline.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function gpgDecryptFile(input: string, output: string, passphrase: string): Promise<void> {
  const home = await mkdtemp(path.join(tmpdir(), "vaultline-gnupg-"));
  try {
    // From a file, as docs/recovery.md does: a generated passphrase may start with '-',
    // which `--passphrase <p>` would take for an option (a 1-in-64 failure of the keys test).
    const passFile = path.join(home, "passphrase");
    await writeFile(passFile, passphrase, { mode: 0o600 });
    await run(
      "gpg",
      ["--batch", "--yes", "--quiet", "--pinentry-mode", "loopback", "--passphrase-file", passFile, "--output", output, "--decrypt", input],
      { env: { ...process.env, GNUPGHOME: home } },
    );
  } finally {
    await run("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: home } }).catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}

export async function sha256sum(file: string): Promise<string> {
  const { stdout } = await run("sha256sum", [file]);
  return stdout.split(/\s+/)[0];
}

/** Stock `zstd -d`, as docs/recovery.md runs it after gpg. */
export async function zstdDecompressFile(input: string, output: string): Promise<void> {
  await run("zstd", ["-d", "-q", "-f", "-o", output, input]);
}

export async function pgRestoreListFile(file: string): Promise<string> {
  const { stdout } = await run("pg_restore", ["--list", file], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
