import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { extensionVersionNote, recordedVersions, versionPins, type ExtensionVersionPlan } from "./extension-versions";
import type { CatalogSnapshot } from "./catalog-snapshot";

const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 12);
const catalog = (ext: Record<string, string>, versions?: Record<string, string>): CatalogSnapshot =>
  ({
    objects: { extensions: Object.fromEntries(Object.entries(ext).map(([n, def]) => [n, { owner: null, acl: null, def: hash(def) }])) },
    roles: [],
    ...(versions ? { extensionVersions: versions } : {}),
  }) as unknown as CatalogSnapshot;

describe("the version each extension had", () => {
  it("is the manifest's where it says, whatever the hash", () => {
    expect(recordedVersions(catalog({ hstore: "1.4 in ext" }, { hstore: "1.4" }), new Map(), [])).toEqual(new Map([["hstore", "1.4"]]));
  });

  it("is found from the hash of 'version in schema' in an older manifest, among the offered versions and the known schemas", () => {
    const offered = new Map([
      ["hstore", ["1.4", "1.5", "1.8"]],
      ["citext", ["1.4", "1.6"]],
    ]);
    const got = recordedVersions(catalog({ hstore: "1.5 in ext", citext: "1.6 in public", cube: "1.2 in public" }), offered, ["public", "ext"]);
    expect(got).toEqual(
      new Map([
        ["hstore", "1.5"],
        ["citext", "1.6"],
        ["cube", null], // not offered here
      ]),
    );
    // A schema not among those tried: not found, not guessed.
    expect(recordedVersions(catalog({ hstore: "1.5 in other" }), offered, ["public", "ext"]).get("hstore")).toBeNull();
  });
});

describe("what the preview and the record say", () => {
  const plan = (p: Partial<ExtensionVersionPlan>): ExtensionVersionPlan => ({ name: "hstore", recorded: "1.4", restoredAs: "1.4", pinned: true, installable: true, serverDefault: "1.8", ...p });

  it("nothing when every extension keeps its version; only those pinned are given one", () => {
    const p = [plan({}), plan({ name: "pg_trgm", recorded: "1.3", restoredAs: "1.3" })];
    expect(extensionVersionNote(p)).toBeNull();
    expect(versionPins(p)).toEqual(new Map([["hstore", "1.4"], ["pg_trgm", "1.3"]]));
    expect(versionPins([plan({ pinned: false, installable: false, restoredAs: "1.8" })])).toEqual(new Map());
  });

  it("names each one restored at the default, and why", () => {
    expect(extensionVersionNote([plan({ recorded: "0.9", restoredAs: "1.8", pinned: false, installable: false })])).toMatch(
      /^An extension is restored at this server's default version, not the backup's, which this server cannot install: hstore 0\.9 → 1\.8\./,
    );
    expect(extensionVersionNote([plan({ recorded: null, restoredAs: "1.8", pinned: false, installable: false })])).toMatch(/cannot install or the backup did not record: hstore \(version not recorded\) → 1\.8/);
    expect(extensionVersionNote([plan({ restoredAs: "1.8", pinned: false })], "not a custom-format archive")).toMatch(/could not be given the version \(not a custom-format archive\): hstore 1\.4 → 1\.8/);
  });
});
