import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { mkdtempSync as mkdtemp, statSync } from "node:fs";
import { copyShares, diskWatch, guardServerDisks, locateServerDisks, serverDiskProblem, type ServerDiskPlan, type ServerFacts } from "./server-disk";

const MiB = 1024 * 1024;
const plan = (over: Partial<ServerDiskPlan> = {}): ServerDiskPlan => ({
  neededBytes: 100 * MiB,
  basis: "backup",
  tablespace: "pg_default",
  reserveBytes: 50 * MiB,
  disks: [
    { dir: "/srv/pg/base", holds: ["copy"], freeBytes: 1000 * MiB, totalBytes: 4000 * MiB },
    { dir: "/srv/pg/pg_wal", holds: ["wal"], freeBytes: 900 * MiB, totalBytes: 1000 * MiB },
  ],
  unmeasured: null,
  ...over,
});

describe("serverDiskProblem", () => {
  it("is null when the copy fits above the reserve, or when nothing was measured", () => {
    expect(serverDiskProblem(plan())).toBeNull();
    expect(serverDiskProblem(plan({ neededBytes: 950 * MiB }))).toBeNull();
    expect(serverDiskProblem(plan({ disks: null, unmeasured: "elsewhere" }))).toBeNull();
  });

  it("says the copy will not fit once it would eat into the reserve", () => {
    expect(serverDiskProblem(plan({ neededBytes: 951 * MiB }))).toBe(
      "The restored copy needs about 951 MiB on the server's disk (/srv/pg/base), which has 1000 MiB free, and the restore keeps 50 MiB of it free (DISK_RESERVE_MB): it will most likely stop before it ends, with the live database untouched. Free space on the server first",
    );
  });

  it("names a disk already below the reserve, the WAL's too", () => {
    const p = plan();
    p.disks![1].freeBytes = 10 * MiB;
    expect(serverDiskProblem(p)).toBe(
      "The server's disk /srv/pg/pg_wal (the server's WAL) has 10 MiB free of 1000 MiB, less than the 50 MiB a restore leaves free (DISK_RESERVE_MB): a restore stops as soon as it starts. Free space on the server first",
    );
  });
});

describe("copyShares", () => {
  it("splits the copy in the proportions the live database keeps its relations; its own tablespace takes the rest", () => {
    expect(copyShares("pg_default", 1000, { databaseBytes: 2000, placed: [] })).toEqual([{ tablespace: "pg_default", bytes: 1000 }]);
    expect(
      copyShares("pg_default", 1000, {
        databaseBytes: 2000,
        placed: [
          { tablespace: "fast", bytes: 1500 },
          { tablespace: "pg_default", bytes: 10 },
        ],
      }),
    ).toEqual([
      { tablespace: "pg_default", bytes: 250 },
      { tablespace: "fast", bytes: 750 },
    ]);
    // A figure above the whole (estimates from pg_class can be) never makes the rest negative.
    expect(copyShares("pg_default", 1000, { databaseBytes: 100, placed: [{ tablespace: "fast", bytes: 900 }] })).toEqual([
      { tablespace: "pg_default", bytes: 0 },
      { tablespace: "fast", bytes: 1000 },
    ]);
  });
});

describe("serverDiskProblem with the copy split over disks", () => {
  it("names the tablespace whose part will not fit on its disk", () => {
    const p = plan({
      disks: [
        { dir: "/srv/pg/base", holds: ["copy", "wal"], tablespaces: ["pg_default"], neededBytes: 10 * MiB, freeBytes: 1000 * MiB, totalBytes: 4000 * MiB },
        { dir: "/mnt/fast", holds: ["copy"], tablespaces: ["fast"], neededBytes: 90 * MiB, freeBytes: 120 * MiB, totalBytes: 200 * MiB },
      ],
    });
    expect(serverDiskProblem(p)).toBe(
      "The restored copy's part in tablespace fast needs about 90 MiB on the server's disk (/mnt/fast), which has 120 MiB free, and the restore keeps 50 MiB of it free (DISK_RESERVE_MB): it will most likely stop before it ends, with the live database untouched. Free space on the server first",
    );
    p.disks![1].freeBytes = 140 * MiB;
    expect(serverDiskProblem(p)).toBeNull();
  });
});

describe("locateServerDisks", () => {
  it("measures only a data directory whose postmaster.pid names the same directory, start time and port", async () => {
    const data = mkdtempSync(path.join(tmpdir(), "vl-fake-pgdata-"));
    try {
      const facts: ServerFacts = {
        dataDirectory: data,
        started: 1796447554,
        port: 5432,
        tablespace: "pg_default",
        location: "",
        databaseBytes: 1,
        tablespaces: [{ name: "pg_default", location: "" }],
        placement: { databaseBytes: 1, placed: [] },
      };
      writeFileSync(path.join(data, "postmaster.pid"), `4242\n${data}\n1796447554\n5432\n/tmp\n*\n  1 2\nready   \n`);
      // The directories themselves are missing: said, not guessed.
      expect((await locateServerDisks(facts)).unmeasured).toBe(`${path.join(data, "base")} cannot be read here`);
      mkdirSync(path.join(data, "base"));
      mkdirSync(path.join(data, "pg_wal"));
      // One disk holds both.
      expect(await locateServerDisks(facts)).toEqual({ places: [{ dir: path.join(data, "base"), holds: ["copy", "wal"], neededBytes: 1 }], unmeasured: null });
      // A second either way is the same start (two clocks read a moment apart); more is another server.
      expect((await locateServerDisks({ ...facts, started: facts.started + 1 })).unmeasured).toBeNull();
      expect((await locateServerDisks({ ...facts, started: facts.started + 2 })).unmeasured).toMatch(/belongs to another server/);
      expect((await locateServerDisks({ ...facts, port: 5433 })).unmeasured).toMatch(/belongs to another server/);
      // A tablespace of its own: the copy goes there.
      expect((await locateServerDisks({ ...facts, location: data })).places).toEqual([{ dir: data, holds: ["copy", "wal"], neededBytes: 1 }]);
      // Relations in a tablespace of their own, on another disk: their part of the copy goes
      // there, named; a tablespace the server does not have is left out.
      const shm = "/dev/shm";
      if (statSync(shm, { throwIfNoEntry: false })?.dev !== undefined && statSync(shm).dev !== statSync(data).dev) {
        const other = mkdtemp(path.join(shm, "vl-fake-tablespace-"));
        try {
          const split = { ...facts, tablespaces: [...facts.tablespaces, { name: "fast", location: other }] };
          const shares = [
            { tablespace: "pg_default", bytes: 300 },
            { tablespace: "fast", bytes: 700 },
            { tablespace: "gone", bytes: 5 },
          ];
          expect((await locateServerDisks(split, shares)).places).toEqual([
            { dir: path.join(data, "base"), holds: ["copy", "wal"], tablespaces: ["pg_default"], neededBytes: 300 },
            { dir: other, holds: ["copy"], tablespaces: ["fast"], neededBytes: 700 },
          ]);
        } finally {
          rmSync(other, { recursive: true, force: true });
        }
      }
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe("guardServerDisks", () => {
  it("calls back once, with the reason, when a disk has less free than the reserve; not otherwise", async () => {
    const dir = tmpdir();
    const s = await statfs(dir);
    const reasons: string[] = [];
    const g = guardServerDisks([{ dir, holds: ["copy"] }], { reserveBytes: s.blocks * s.bsize * 2, intervalMs: 10, onShort: (r) => reasons.push(r) });
    await new Promise((r) => setTimeout(r, 80));
    g.stop();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(new RegExp(`^Stopped before the server's disk filled up: ${dir} \\(the restored copy\\) had .* free of .*, less than the .* the restore leaves free \\(DISK_RESERVE_MB\\)\\. Free space on the server, and restore again$`));

    const none: string[] = [];
    const quiet = guardServerDisks([{ dir, holds: ["copy"] }], { reserveBytes: 0, intervalMs: 10, onShort: (r) => none.push(r) });
    await new Promise((r) => setTimeout(r, 50));
    quiet.stop();
    expect(none).toEqual([]);
  });
});

describe("diskWatch", () => {
  it("watches nothing until told where, then aborts its signal with the reason, naming the tablespace whose part is there", async () => {
    const dir = tmpdir();
    const s = await statfs(dir);
    const told: string[] = [];
    const w = diskWatch((r) => told.push(r));
    w.watch(null, { reserveBytes: Number.MAX_SAFE_INTEGER, intervalMs: 10 });
    await new Promise((r) => setTimeout(r, 30));
    expect(w.signal.aborted).toBe(false);
    expect(w.reason()).toBeNull();
    w.watch([{ dir, holds: ["copy"], tablespaces: ["fast"] }], { reserveBytes: s.blocks * s.bsize * 2, intervalMs: 10 });
    await new Promise((r) => setTimeout(r, 50));
    w.stop();
    expect(w.signal.aborted).toBe(true);
    expect(told).toEqual([w.reason()]);
    expect(w.reason()).toMatch(new RegExp(`^Stopped before the server's disk filled up: ${dir} \\(the restored copy's part in tablespace fast\\) had `));
  });
});
