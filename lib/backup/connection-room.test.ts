// The words and arithmetic of the room a backup counts before it opens its sessions (decision 178).
import { describe, expect, it } from "vitest";
import { connectionRoomProblem, isTooManyConnections, tightestLimit, type ConnectionRoom } from "./connection-room";

const room = (over: Partial<ConnectionRoom> = {}): ConnectionRoom => ({
  user: "backup",
  database: "shop",
  superuser: false,
  roleLimit: null,
  roleInUse: 0,
  databaseLimit: null,
  databaseInUse: 0,
  maxConnections: 100,
  reserved: 3,
  serverInUse: 10,
  holders: [],
  ...over,
});

describe("the tightest limit", () => {
  it("none binds: null, whatever the limits that leave room", () => {
    expect(tightestLimit(room({ roleLimit: 10, roleInUse: 2, databaseLimit: 50 }), 4)).toBeNull();
  });

  it("the role's, the database's or the server's, whichever leaves fewest; the ALTER raises it to what is open plus the need", () => {
    expect(tightestLimit(room({ roleLimit: 5, roleInUse: 3, databaseLimit: 6, databaseInUse: 3 }), 4)).toMatchObject({
      free: 2,
      fix: 'ALTER ROLE "backup" CONNECTION LIMIT 7;',
    });
    expect(tightestLimit(room({ roleLimit: 9, databaseLimit: 6, databaseInUse: 4 }), 4)).toMatchObject({ free: 2, fix: 'ALTER DATABASE "shop" CONNECTION LIMIT 8;' });
    // 100 - 3 reserved - 95 open = 2.
    expect(tightestLimit(room({ serverInUse: 95 }), 4)).toMatchObject({ free: 2, fix: expect.stringMatching(/^raise max_connections/) });
  });

  it("a superuser is bound by neither CONNECTION LIMIT and may take the reserved slots", () => {
    expect(tightestLimit(room({ superuser: true, roleLimit: 1, databaseLimit: 1, databaseInUse: 1, serverInUse: 95 }), 4)).toBeNull();
    expect(tightestLimit(room({ superuser: true, serverInUse: 97 }), 4)).toMatchObject({ free: 3 });
  });

  it("a limit already overrun counts as no room, not a negative one", () => {
    expect(tightestLimit(room({ roleLimit: 2, roleInUse: 5 }), 4)).toMatchObject({ free: 0 });
  });
});

describe("the reason", () => {
  it("names the limit, the sessions open by user and application (three, then how many more), and the fix", () => {
    const holders = [
      { user: "app", application: "puma", database: "shop", count: 60 },
      { user: "app", application: "sidekiq", database: "shop", count: 20 },
      { user: "report", application: "metabase", database: "shop", count: 10 },
      { user: "backup", application: "psql", database: "postgres", count: 4 },
      { user: "app", application: "(no name)", database: "shop", count: 1 },
    ];
    expect(connectionRoomProblem(room({ serverInUse: 95, holders }), 4, "A FULL backup")).toBe(
      "A FULL backup opens up to 4 sessions on shop at once, and there is room for 2 now: the server takes 100 sessions (max_connections), 3 of them reserved for superusers, " +
        "and has 95 open (60 app/puma, 20 app/sidekiq, 10 report/metabase, and 2 more). Raise max_connections (a server restart) or lower the application's connection pool, " +
        "or close sessions, then try again. Nothing was started.",
    );
    expect(connectionRoomProblem(room({ databaseLimit: 5, databaseInUse: 2, holders }), 4, "A FULL backup")).toContain(
      "shop takes 5 sessions (its CONNECTION LIMIT) and has 2 open (60 app/puma, 20 app/sidekiq, 10 report/metabase, and 1 more). Run ALTER DATABASE \"shop\" CONNECTION LIMIT 6;",
    );
    expect(connectionRoomProblem(room(), 4, "A FULL backup")).toBeNull();
  });
});

it("a refused session is known by its SQLSTATE or, through pg_dump, by the server's words", () => {
  expect(isTooManyConnections(Object.assign(new Error("x"), { code: "53300" }))).toBe(true);
  for (const words of ['FATAL:  too many connections for role "backup"', 'too many connections for database "shop"', "sorry, too many clients already", "remaining connection slots are reserved for roles with the SUPERUSER attribute"]) {
    expect(isTooManyConnections(new Error(`pg_dump failed: connection to server failed: ${words}`))).toBe(true);
  }
  expect(isTooManyConnections(new Error("password authentication failed"))).toBe(false);
});
