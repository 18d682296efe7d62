// A database made of the object kinds app-fixture.ts does not use, for restore fidelity
// beyond the everyday: generated, identity and collated columns, storage settings, a column's
// n_distinct, an expression index's statistics target, a foreign column's options, unlogged,
// REPLICA IDENTITY FULL and CLUSTERed tables, plain inheritance, two-level partitions with
// DEFAULT partitions and a foreign key to a partitioned table, exclusion / deferrable /
// NOT VALID constraints, a custom aggregate, operator, cast, collation, range and composite
// types as column types, a domain over an array, an enum array, extended statistics, a rule,
// a publication, default privileges, column grants, comments on a column / index /
// constraint, a CYCLE sequence OWNED BY a column, a large object with a grant, a materialized
// view with an index, a text search configuration and dictionary — and awkward data: tabs,
// backslashes, newlines, the literal string '\N', NULLs, multibyte text, a ~3 MB toasted
// text, a ~1 MB bytea and a table with a dropped column.
// Owned by the app role (as app-fixture.ts makes its objects); built on an empty database.
import { APP_ROLE, READER_ROLE, asAppRole, ensureRoles, type Exec } from "./app-fixture";

/** The large object's OID (dumps keep large object OIDs, so a fixed one is safe to name). */
export const EXOTIC_LO_OID = 424242;

/** Run as the superuser on an empty database: ownership, extensions, database-level state. */
export function exoticSuperuserSetup(dbName: string): string {
  return `
    ALTER DATABASE "${dbName}" OWNER TO ${APP_ROLE};
    ALTER SCHEMA public OWNER TO ${APP_ROLE};
    CREATE EXTENSION IF NOT EXISTS btree_gist;
    COMMENT ON DATABASE "${dbName}" IS 'the exotic database';
    GRANT CONNECT ON DATABASE "${dbName}" TO ${READER_ROLE};
    -- Outside every schema: a cast between built-in types, a foreign-data wrapper with a
    -- server the app owns and a user mapping (superuser-only to make).
    CREATE CAST (bytea AS uuid) WITH INOUT;
    COMMENT ON CAST (bytea AS uuid) IS 'raw ids';
    CREATE FOREIGN DATA WRAPPER exotic_fdw OPTIONS (debug 'true');
    GRANT USAGE ON FOREIGN DATA WRAPPER exotic_fdw TO ${APP_ROLE};
    CREATE SERVER exotic_srv FOREIGN DATA WRAPPER exotic_fdw OPTIONS (host 'warehouse');
    ALTER SERVER exotic_srv OWNER TO ${APP_ROLE};
    CREATE USER MAPPING FOR ${APP_ROLE} SERVER exotic_srv OPTIONS (user 'loader');
    -- An event trigger (superuser-only), on its own function in public.
    CREATE FUNCTION public.note_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'dropped'; END $$;
    CREATE EVENT TRIGGER exotic_guard ON sql_drop WHEN TAG IN ('DROP TABLE') EXECUTE FUNCTION public.note_drops();
    COMMENT ON EVENT TRIGGER exotic_guard IS 'says what was dropped';
    -- Made without an extension: a table access method on a built-in handler (so no DROP
    -- SCHEMA takes it) with a table on it, and a procedural language with a transform. (A
    -- language on a pg_catalog handler or validator cannot be dumped: pg_dump writes it as bare
    -- CREATE LANGUAGE, which PostgreSQL 13+ reads as CREATE EXTENSION. Its handler is in public.)
    CREATE ACCESS METHOD exotic_heap TYPE TABLE HANDLER heap_tableam_handler;
    COMMENT ON ACCESS METHOD exotic_heap IS 'heap by another name';
    CREATE TABLE public.am_rows (id int PRIMARY KEY, note text) USING exotic_heap;
    INSERT INTO public.am_rows SELECT g, 'row ' || g FROM generate_series(1, 50) g;
    ALTER TABLE public.am_rows OWNER TO ${APP_ROLE};
    CREATE FUNCTION public.exotic_pl_call() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
    CREATE TRUSTED LANGUAGE exotic_pl HANDLER public.exotic_pl_call;
    COMMENT ON LANGUAGE exotic_pl IS 'plpgsql by another name';
    GRANT USAGE ON LANGUAGE exotic_pl TO ${APP_ROLE};
    CREATE FUNCTION public.mood_from_sql(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
    CREATE FUNCTION public.mood_to_sql(internal) RETURNS int LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
    CREATE TRANSFORM FOR int LANGUAGE exotic_pl (FROM SQL WITH FUNCTION public.mood_from_sql(internal), TO SQL WITH FUNCTION public.mood_to_sql(internal));
  `;
}

/** Run as the app role. */
export const EXOTIC_SCHEMA_SQL = `
  CREATE SCHEMA lab;
  GRANT USAGE ON SCHEMA lab TO ${READER_ROLE};

  -- Types used as column types: range, composite, domain over an array, enum (as an array).
  CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
  CREATE TYPE money_pair AS (amount numeric(12, 2), currency char(3));
  COMMENT ON TYPE money_pair IS 'an amount in a currency';
  CREATE DOMAIN tag_list AS text[] CHECK (cardinality(VALUE) <= 5);
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE COLLATION lab.bytewise FROM "C";
  COMMENT ON COLLATION lab.bytewise IS 'plain byte order';

  -- A cast, an operator and an aggregate of the application's own.
  CREATE FUNCTION money_pair_text(p money_pair) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p.amount::text || ' ' || p.currency $$;
  CREATE CAST (money_pair AS text) WITH FUNCTION money_pair_text(money_pair) AS ASSIGNMENT;
  CREATE FUNCTION near_eq(a numeric, b numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT abs(a - b) < 0.01 $$;
  CREATE OPERATOR === (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = near_eq, COMMUTATOR = ===);
  COMMENT ON OPERATOR === (numeric, numeric) IS 'equal to the cent';
  CREATE FUNCTION longest_step(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN length(v) > length(coalesce(acc, '')) THEN v ELSE acc END $$;
  CREATE AGGREGATE lab.longest(text) (SFUNC = longest_step, STYPE = text, INITCOND = '');
  COMMENT ON AGGREGATE lab.longest(text) IS 'the longest string';

  -- Columns with generation, identity, collation and storage settings.
  CREATE TABLE products (
    id int GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 7) PRIMARY KEY,
    sku text COLLATE "C" NOT NULL,
    label text COLLATE lab.bytewise,
    price numeric(12, 2) NOT NULL,
    price_with_tax numeric(12, 2) GENERATED ALWAYS AS (price * 1.2) STORED,
    list_price money_pair,
    validity floatrange,
    tags tag_list,
    moods mood[],
    descr text,
    ring_no int
  );
  ALTER TABLE products ALTER COLUMN descr SET STORAGE EXTERNAL;
  ALTER TABLE products ALTER COLUMN label SET COMPRESSION pglz;
  ALTER TABLE products ALTER COLUMN sku SET STATISTICS 500;
  ALTER TABLE products REPLICA IDENTITY FULL;
  CREATE INDEX products_sku_idx ON products (sku);
  -- An expression index with its own statistics target, a column with its own n_distinct.
  CREATE INDEX products_lower_sku_idx ON products (lower(sku));
  ALTER INDEX products_lower_sku_idx ALTER COLUMN 1 SET STATISTICS 250;
  ALTER TABLE products ALTER COLUMN sku SET (n_distinct = -0.5);
  COMMENT ON COLUMN products.price_with_tax IS 'computed, never written';
  COMMENT ON INDEX products_sku_idx IS 'lookups by SKU';
  INSERT INTO products (sku, label, price, list_price, validity, tags, moods, descr)
    VALUES ('A-1', 'Apple', 1.50, ROW(1.50, 'EUR'), '[0,1.5)', ARRAY['fruit'], ARRAY['happy']::mood[], 'red'),
           ('b-2', 'banana', 0.25, ROW(0.25, 'USD'), '(,10]', ARRAY['fruit', 'yellow'], ARRAY['ok', 'sad']::mood[], NULL),
           ('C-3', NULL, 9.99, NULL, 'empty', '{}', '{}', repeat('x', 5000));
  CREATE STATISTICS lab.products_sku_label (ndistinct, dependencies) ON sku, label FROM products;
  ALTER STATISTICS lab.products_sku_label SET STATISTICS 321;
  COMMENT ON STATISTICS lab.products_sku_label IS 'sku and label move together';
  GRANT SELECT (id, sku, price), UPDATE (label) ON products TO ${READER_ROLE};

  -- A sequence that cycles, owned by a column, advanced past its wrap.
  CREATE SEQUENCE ring AS smallint INCREMENT BY 2 MINVALUE 1 MAXVALUE 9 START 3 CACHE 1 CYCLE OWNED BY products.ring_no;
  SELECT nextval('ring') FROM generate_series(1, 5);
  ALTER TABLE products ALTER COLUMN ring_no SET DEFAULT nextval('ring');

  -- A rule (not a view's), logging price changes.
  CREATE TABLE price_log (product_id int, old_price numeric(12, 2), new_price numeric(12, 2));
  CREATE RULE log_price AS ON UPDATE TO products WHERE NEW.price <> OLD.price
    DO ALSO INSERT INTO price_log VALUES (OLD.id, OLD.price, NEW.price);
  COMMENT ON RULE log_price ON products IS 'price history';
  UPDATE products SET price = 1.75 WHERE sku = 'A-1';

  -- Unlogged, clustered, inherited.
  CREATE UNLOGGED TABLE scratch (k text PRIMARY KEY, v jsonb);
  INSERT INTO scratch SELECT 'k' || g, jsonb_build_object('g', g) FROM generate_series(1, 50) g;
  CREATE TABLE readings (id int PRIMARY KEY, sensor int NOT NULL, value float8);
  CREATE INDEX readings_sensor_idx ON readings (sensor);
  INSERT INTO readings SELECT g, g % 7, g / 3.0 FROM generate_series(1, 500) g;
  CLUSTER readings USING readings_sensor_idx;
  CREATE TABLE vehicles (id int, name text NOT NULL, CONSTRAINT vehicles_name_nonempty CHECK (name <> ''));
  CREATE TABLE cars (doors int DEFAULT 4) INHERITS (vehicles);
  CREATE TABLE bikes (gears int) INHERITS (vehicles);
  INSERT INTO vehicles VALUES (1, 'generic');
  INSERT INTO cars VALUES (2, 'sedan', 4), (3, 'coupe', 2);
  INSERT INTO bikes VALUES (4, 'racer', 22);

  -- Two-level partitions with DEFAULT partitions, and a foreign key to the partitioned table.
  CREATE TABLE events (id int NOT NULL, region text NOT NULL, at date NOT NULL, payload text, PRIMARY KEY (id, region, at)) PARTITION BY LIST (region);
  CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu', 'uk') PARTITION BY RANGE (at);
  CREATE TABLE events_eu_2025 PARTITION OF events_eu FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE events_eu_rest PARTITION OF events_eu DEFAULT;
  CREATE TABLE events_other PARTITION OF events DEFAULT;
  INSERT INTO events SELECT g, (ARRAY['eu', 'uk', 'us', 'jp'])[1 + g % 4], DATE '2025-06-01' + (g % 400), 'event ' || g FROM generate_series(1, 400) g;
  CREATE TABLE event_notes (id serial PRIMARY KEY, event_id int NOT NULL, region text NOT NULL, at date NOT NULL, note text,
    CONSTRAINT event_notes_event_fk FOREIGN KEY (event_id, region, at) REFERENCES events ON DELETE CASCADE);
  INSERT INTO event_notes (event_id, region, at, note) SELECT id, region, at, 'note on ' || id FROM events WHERE id % 10 = 0;
  COMMENT ON CONSTRAINT event_notes_event_fk ON event_notes IS 'notes die with their event';

  -- Exclusion, deferrable unique, NOT VALID check (a row already breaks it).
  CREATE TABLE bookings (room int NOT NULL, during tsrange NOT NULL, CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&));
  INSERT INTO bookings VALUES (1, '[2026-01-01 10:00, 2026-01-01 11:00)'), (1, '[2026-01-01 11:00, 2026-01-01 12:00)'), (2, '[2026-01-01 10:00, 2026-01-01 12:00)');
  CREATE TABLE slots (pos int NOT NULL, name text, CONSTRAINT slots_pos_key UNIQUE (pos) DEFERRABLE INITIALLY DEFERRED);
  INSERT INTO slots VALUES (-1, 'legacy'), (1, 'one'), (2, 'two'), (3, 'three');
  ALTER TABLE slots ADD CONSTRAINT slots_pos_positive CHECK (pos > 0) NOT VALID;

  -- A publication for some tables.
  CREATE PUBLICATION exotic_pub FOR TABLE products, events WITH (publish = 'insert, update', publish_via_partition_root = true);
  COMMENT ON PUBLICATION exotic_pub IS 'to the warehouse';

  -- A materialized view with an index, a text search configuration and dictionary.
  CREATE MATERIALIZED VIEW lab.region_counts AS SELECT region, count(*) AS n FROM events GROUP BY region;
  CREATE UNIQUE INDEX region_counts_region ON lab.region_counts (region);
  CREATE TEXT SEARCH DICTIONARY lab.plain (TEMPLATE = simple, STOPWORDS = english);
  CREATE TEXT SEARCH CONFIGURATION lab.docs (COPY = english);
  ALTER TEXT SEARCH CONFIGURATION lab.docs ALTER MAPPING FOR asciiword, word WITH lab.plain;
  COMMENT ON TEXT SEARCH CONFIGURATION lab.docs IS 'for product docs';

  -- A foreign table (its definition only: a dump holds no foreign rows).
  CREATE FOREIGN TABLE lab.remote_items (id int OPTIONS (column_name 'item_id') NOT NULL, name text) SERVER exotic_srv OPTIONS (table_name 'items');

  -- Awkward data, and a table with a dropped column.
  CREATE TABLE awkward (id int PRIMARY KEY, t text, b bytea);
  INSERT INTO awkward VALUES
    (1, E'tab\\there', NULL),
    (2, E'back\\\\slash \\\\N and \\\\.', E'\\\\x00ff'),
    (3, E'line1\\nline2\\r\\nline3\\n', NULL),
    (4, '\\N', '\\x5c4e'),
    (5, NULL, NULL),
    (6, '', ''),
    (7, 'emoji 😀🚀 ünïcödé 中文 עברית', convert_to('ünï', 'UTF8')),
    (8, E'\\\\.\\n\\\\.', NULL);
  INSERT INTO awkward SELECT 9, string_agg(md5(g::text), '' ORDER BY g), NULL FROM generate_series(1, 100000) g;
  INSERT INTO awkward SELECT 10, NULL, string_agg(decode(md5(g::text), 'hex'), ''::bytea ORDER BY g) FROM generate_series(1, 65536) g;
  CREATE TABLE widened (id int PRIMARY KEY, gone text, kept text, added int);
  INSERT INTO widened VALUES (1, 'x', 'one', 10), (2, 'y', 'two', NULL);
  ALTER TABLE widened DROP COLUMN gone;

  -- A large object with a grant.
  SELECT lo_from_bytea(${EXOTIC_LO_OID}, 'exotic large object');
  GRANT SELECT ON LARGE OBJECT ${EXOTIC_LO_OID} TO ${READER_ROLE};

  -- Default privileges, in a schema and everywhere (made last: they apply to later objects).
  ALTER DEFAULT PRIVILEGES IN SCHEMA lab GRANT SELECT ON TABLES TO ${READER_ROLE};
  ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
  ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO ${READER_ROLE};
  CREATE TABLE lab.after_defaults (id int);
`;

/** Builds the fixture in an empty database at url (a superuser connection). */
export async function buildExoticDatabase(exec: Exec, adminUrl: string, url: string): Promise<void> {
  await ensureRoles(exec, adminUrl);
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  await exec(url, exoticSuperuserSetup(dbName));
  await exec(asAppRole(url), EXOTIC_SCHEMA_SQL);
}
