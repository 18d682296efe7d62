import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { ConfigError, parseConfig } from "./config";

const base = {
  DATABASE_URL: "postgresql://u:p@localhost:5432/db",
  BACKUP_ENCRYPTION_PASSPHRASE: "a-long-enough-passphrase",
  NEXTAUTH_SECRET: "0123456789abcdef0123",
};

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
}

describe("config", () => {
  it("applies the documented defaults", () => {
    const c = parseConfig(base);
    expect(c.PORT).toBe(3000);
    expect(c.STORAGE).toBe("local");
    expect(c.STORAGE_PREFIX).toBe("backups");
    expect(c.BACKUP_ENV).toBe("prod");
    expect(c.BACKUP_TIMEOUT_MINUTES).toBe(60);
    expect(c.targetDatabaseUrl).toBe(base.DATABASE_URL);
    expect(c.localStorageDir).toMatch(/\.data\/backups$/);
  });

  it("names the variable that is wrong", () => {
    expect(problems({ ...base, PORT: "eighty" })[0]).toMatch(/^PORT:/);
    expect(problems({ ...base, STORAGE: "ftp" })[0]).toMatch(/^STORAGE:/);
    expect(problems({ ...base, S3_FORCE_PATH_STYLE: "maybe" })[0]).toMatch(/^S3_FORCE_PATH_STYLE:/);
    expect(problems({ ...base, STORAGE_PREFIX: "../escape" })[0]).toMatch(/^STORAGE_PREFIX:/);
    expect(problems({ ...base, ADMIN_EMAIL: "not-an-email" })[0]).toMatch(/^ADMIN_EMAIL:/);
    // A copy restore's files must not land where the application serves and backs up files (decision 191).
    expect(problems({ ...base, FILES_DIR: "/srv/uploads", RESTORE_COPY_FILES_DIR: "/srv/uploads/copies" })[0]).toMatch(/^RESTORE_COPY_FILES_DIR: must be outside FILES_DIR/);
    expect(parseConfig({ ...base, FILES_DIR: "/srv/uploads", RESTORE_COPY_FILES_DIR: "/srv/uploads-copies" }).RESTORE_COPY_FILES_DIR).toBe("/srv/uploads-copies");
    expect(problems({ ...base, TARGET_DATABASE_URL: "not a url" })[0]).toMatch(/^TARGET_DATABASE_URL:/);
    // libpq's failover form is the default target's URL (decision 183), and Vaultline's own
    // database's is refused with its reason, not as an invalid URL: its pools connect to one host.
    const failover = "postgresql://u:p@db1:5432,db2:5432/shop?target_session_attrs=read-write";
    expect(parseConfig({ ...base, TARGET_DATABASE_URL: failover }).targetDatabaseUrl).toBe(failover);
    expect(problems({ ...base, DATABASE_URL: failover })).toEqual([expect.stringMatching(/^DATABASE_URL: one host for Vaultline's own database: a URL with several hosts/)]);
    expect(problems({ ...base, DATABASE_URL: "postgresql://app:pw@/vaultline?host=/var/run/postgresql" })).toEqual([
      "DATABASE_URL: a URL; a Unix socket with a user: postgresql://user:password@%2Fvar%2Frun%2Fpostgresql/db",
    ]);
    expect(problems({ ...base, TARGET_DATABASE_URL: "postgresql://db1:x,db2/shop" })[0]).toMatch(/^TARGET_DATABASE_URL: a URL \(several hosts/);
    expect(problems({ ...base, TARGET_DATABASE_URL: "postgresql:///shop?service=prod" })[0]).toMatch(/^TARGET_DATABASE_URL: service= names a pg_service.conf entry/);
    // libpq's Unix-socket form with a user (decision 203): taken, and written as every reader here reads it.
    expect(parseConfig({ ...base, TARGET_DATABASE_URL: "postgresql://app:pw@/shop?host=/var/run/postgresql&port=5433" }).targetDatabaseUrl).toBe(
      "postgresql://app:pw@%2Fvar%2Frun%2Fpostgresql:5433/shop",
    );
    expect(problems({ ...base, TARGET_DATABASE_URL: "postgresql://app:pw@/shop" })[0]).toMatch(/a Unix socket with a user: postgresql:\/\/user:password@%2Fvar%2Frun%2Fpostgresql\/db/);
  });

  it("takes COMMIT_SHA and APP_DIR as aliases of APP_COMMIT_SHA and APP_REPO_DIR, the APP_ names winning", () => {
    expect(parseConfig({ ...base, COMMIT_SHA: "abcdef1", APP_DIR: "/srv/app" })).toMatchObject({ APP_COMMIT_SHA: "abcdef1", APP_REPO_DIR: "/srv/app" });
    expect(parseConfig({ ...base, COMMIT_SHA: "abcdef1", APP_COMMIT_SHA: "1234567" }).APP_COMMIT_SHA).toBe("1234567");
    expect(problems({ ...base, COMMIT_SHA: "not-a-sha" })[0]).toMatch(/^COMMIT_SHA:/);
  });

  it("requires the S3 settings when STORAGE=s3", () => {
    const p = problems({ ...base, STORAGE: "s3" });
    expect(p.join("\n")).toMatch(/S3_BUCKET/);
    expect(p.join("\n")).toMatch(/S3_ACCESS_KEY_ID/);
  });

  it("refuses to run without an encryption passphrase rather than store plain backups", () => {
    const { BACKUP_ENCRYPTION_PASSPHRASE: _omit, ...rest } = base;
    expect(problems(rest).join("\n")).toMatch(/BACKUP_ENCRYPTION_PASSPHRASE/);
  });

  it("documents every variable it reads in .env.example", () => {
    const src = readFileSync("lib/config.ts", "utf8");
    const vars = [...src.matchAll(/^\s{4}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]).filter((v) => v !== "NODE_ENV");
    const example = readFileSync(".env.example", "utf8");
    expect(vars.length).toBeGreaterThan(20);
    for (const v of vars) expect(example, v).toMatch(new RegExp(`^${v}=`, "m"));
  });
  it("parses the issue 12 settings: TRUST_PROXY, keep-alive/headers timeouts, SESSION_MAX_DAYS", () => {
    const c = parseConfig(base);
    expect(c.trustProxy).toEqual({ kind: "none" });
    expect(c.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS).toBe(65);
    expect(c.httpHeadersTimeoutSeconds).toBe(66);
    expect(c.SESSION_MAX_DAYS).toBe(7);
    expect(parseConfig({ ...base, TRUST_PROXY: "2" }).trustProxy).toEqual({ kind: "hops", hops: 2 });
    expect(parseConfig({ ...base, TRUST_PROXY: "10.0.0.0/8" }).trustProxy.kind).toBe("list");
    expect(parseConfig({ ...base, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: "120" }).httpHeadersTimeoutSeconds).toBe(121);
    expect(problems({ ...base, TRUST_PROXY: "proxy.internal" })[0]).toMatch(/^TRUST_PROXY: /);
    expect(problems({ ...base, HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: "70", HTTP_HEADERS_TIMEOUT_SECONDS: "60" })[0]).toMatch(/^HTTP_HEADERS_TIMEOUT_SECONDS: must be above/);
    expect(problems({ ...base, SESSION_MAX_DAYS: "0" })[0]).toMatch(/^SESSION_MAX_DAYS: /);
  });
});
