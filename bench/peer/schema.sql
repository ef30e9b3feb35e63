-- The PostGraphile peer's view of the bench's own PostgreSQL database (bench/seed.py's tables
-- and rows, in schema public): grants, smart comments, computed columns and row-level security,
-- applied by bench/peer.py after seeding. Idempotent. It changes nothing the service reads:
-- the service connects as the database owner, to whom row-level security does not apply.
--
-- Rules (the service's policy, authz/): the caller's reach per right arrives as JWT claims,
-- which PostGraphile copies into transaction-local settings jwt.claims.<right>, each either
-- 'all' (every setting) or a JSON array of setting ids ('[1,2]'); bench/peer.py derives them
-- from the same user's grants (authz.grants). A right holds on a family when the claim is 'all'
-- or its settings meet the family's scope: the registered setting and every unrevoked
-- affiliation's setting.
--   PRIMARY      every row of families, carers, children, settings, carer_children
--   SECONDARY    families.general_note, carers/children ethnicity and language (computed columns
--                returning NULL outside scope), affiliations and HISTORY notes (row-level security)
--   CONFIDENTIAL confidential notes: computed columns returning NULL outside scope (the service
--                answers null there too; PostGraphile turns a NULL array into [], so a
--                *_confidential_readable column says which), and row-level security on notes
--   CP_PLAN      the open child-protection plan of a child (computed column, NULL outside
--                scope) and row-level security on the plans table
-- Helper functions are written so that PostgreSQL inlines the computed columns into
-- PostGraphile's one query (no sub-select in a computed column's body; the non-inlinable
-- helpers call no other non-inlinable function), as ../shared/peers/postgraphile/ tuned them.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_peer_user') THEN
    CREATE ROLE bench_peer_user NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_peer_authenticator') THEN
    CREATE ROLE bench_peer_authenticator LOGIN NOINHERIT;
  END IF;
END $$;
GRANT bench_peer_user TO bench_peer_authenticator;

-- Hide the raw masked columns from the API; computed columns below replace them.
COMMENT ON COLUMN families.general_note IS E'@omit';
COMMENT ON COLUMN carers.ethnicity IS E'@omit';
COMMENT ON COLUMN carers.language IS E'@omit';
COMMENT ON COLUMN children.ethnicity IS E'@omit';
COMMENT ON COLUMN children.language IS E'@omit';
COMMENT ON COLUMN carers.general_note IS E'@omit';
COMMENT ON COLUMN children.general_note IS E'@omit';
COMMENT ON TABLE users IS E'@omit';
-- a family's notes are its own (computed columns below), not every note of its members
COMMENT ON CONSTRAINT fk_notes_family_id_families ON notes IS E'@omit many';

------------------------------------------------------------------------------
-- Claims
------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION peer_all(r text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('jwt.claims.' || r, true) = 'all', false)
$$;

CREATE OR REPLACE FUNCTION peer_settings(r text) RETURNS integer[]
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN left(coalesce(current_setting('jwt.claims.' || r, true), ''), 1) = '['
              THEN translate(current_setting('jwt.claims.' || r, true), '[]', '{}')::integer[]
              ELSE '{}'::integer[] END
$$;

-- An unrevoked affiliation of the family to a setting of right r?
CREATE OR REPLACE FUNCTION peer_affiliated(r text, p_family integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM affiliations a
                  WHERE a.family_id = p_family AND a.revoked_at IS NULL
                    AND a.setting_id = ANY (peer_settings(r)))
$$;

-- Right r on a family whose row is at hand (inlinable).
CREATE OR REPLACE FUNCTION peer_reads(r text, p_family integer, p_registered integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT peer_all(r) OR p_registered = ANY (peer_settings(r)) OR peer_affiliated(r, p_family)
$$;

-- Right r on a family known by its id only (carers, children, notes, plans).
CREATE OR REPLACE FUNCTION peer_reads_family(r text, p_family integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT peer_all(r)
      OR EXISTS (SELECT 1 FROM families f
                  WHERE f.id = p_family AND f.registered_setting_id = ANY (peer_settings(r)))
      OR EXISTS (SELECT 1 FROM affiliations a
                  WHERE a.family_id = p_family AND a.revoked_at IS NULL
                    AND a.setting_id = ANY (peer_settings(r)))
$$;

COMMENT ON FUNCTION peer_all(text) IS E'@omit';
COMMENT ON FUNCTION peer_settings(text) IS E'@omit';
COMMENT ON FUNCTION peer_affiliated(text, integer) IS E'@omit';
COMMENT ON FUNCTION peer_reads(text, integer, integer) IS E'@omit';
COMMENT ON FUNCTION peer_reads_family(text, integer) IS E'@omit';

------------------------------------------------------------------------------
-- Computed columns
------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION families_general_note(f families) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads('secondary_read', f.id, f.registered_setting_id) THEN f.general_note END
$$;

CREATE OR REPLACE FUNCTION carers_ethnicity(c carers) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads_family('secondary_read', c.family_id) THEN c.ethnicity END
$$;
CREATE OR REPLACE FUNCTION carers_language(c carers) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads_family('secondary_read', c.family_id) THEN c.language END
$$;
CREATE OR REPLACE FUNCTION children_ethnicity(c children) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads_family('secondary_read', c.family_id) THEN c.ethnicity END
$$;
CREATE OR REPLACE FUNCTION children_language(c children) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads_family('secondary_read', c.family_id) THEN c.language END
$$;

-- The categories the caller reads and writes on the family (Family.access).
CREATE OR REPLACE FUNCTION families_access_read(f families) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT array_remove(ARRAY[
    CASE WHEN peer_reads('primary_read', f.id, f.registered_setting_id) THEN 'PRIMARY' END,
    CASE WHEN peer_reads('secondary_read', f.id, f.registered_setting_id) THEN 'SECONDARY' END,
    CASE WHEN peer_reads('confidential_read', f.id, f.registered_setting_id) THEN 'CONFIDENTIAL' END,
    CASE WHEN peer_reads('cp_plan_read', f.id, f.registered_setting_id) THEN 'CP_PLAN' END], NULL)
$$;
CREATE OR REPLACE FUNCTION families_access_write(f families) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT array_remove(ARRAY[
    CASE WHEN peer_reads('primary_write', f.id, f.registered_setting_id) THEN 'PRIMARY' END,
    CASE WHEN peer_reads('secondary_write', f.id, f.registered_setting_id) THEN 'SECONDARY' END,
    CASE WHEN peer_reads('confidential_write', f.id, f.registered_setting_id) THEN 'CONFIDENTIAL' END,
    CASE WHEN peer_reads('cp_plan_write', f.id, f.registered_setting_id) THEN 'CP_PLAN' END], NULL)
$$;

-- Notes of a subject, oldest first (HISTORY: row-level security decides; CONFIDENTIAL: NULL
-- outside scope, as the service answers).
CREATE OR REPLACE FUNCTION peer_notes(p_type text, p_subject integer, p_kind text) RETURNS SETOF notes
LANGUAGE sql STABLE AS $$
  SELECT n.* FROM notes n
   WHERE n.subject_type = p_type AND n.subject_id = p_subject AND n.kind = p_kind
   ORDER BY n.created_at, n.id
$$;
COMMENT ON FUNCTION peer_notes(text, integer, text) IS E'@omit';

CREATE OR REPLACE FUNCTION families_notes(f families) RETURNS SETOF notes
LANGUAGE sql STABLE AS $$ SELECT * FROM peer_notes('family', f.id, 'HISTORY') $$;
CREATE OR REPLACE FUNCTION carers_notes(c carers) RETURNS SETOF notes
LANGUAGE sql STABLE AS $$ SELECT * FROM peer_notes('carer', c.id, 'HISTORY') $$;
CREATE OR REPLACE FUNCTION children_notes(c children) RETURNS SETOF notes
LANGUAGE sql STABLE AS $$ SELECT * FROM peer_notes('child', c.id, 'HISTORY') $$;

CREATE OR REPLACE FUNCTION families_confidential_notes(f families) RETURNS notes[]
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads('confidential_read', f.id, f.registered_setting_id)
              THEN coalesce((SELECT array_agg(n ORDER BY n.created_at, n.id) FROM notes n
                              WHERE n.subject_type = 'family' AND n.subject_id = f.id
                                AND n.kind = 'CONFIDENTIAL'), '{}') END
$$;
CREATE OR REPLACE FUNCTION carers_confidential_notes(c carers) RETURNS notes[]
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads_family('confidential_read', c.family_id)
              THEN coalesce((SELECT array_agg(n ORDER BY n.created_at, n.id) FROM notes n
                              WHERE n.subject_type = 'carer' AND n.subject_id = c.id
                                AND n.kind = 'CONFIDENTIAL'), '{}') END
$$;
CREATE OR REPLACE FUNCTION children_confidential_notes(c children) RETURNS notes[]
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN peer_reads_family('confidential_read', c.family_id)
              THEN coalesce((SELECT array_agg(n ORDER BY n.created_at, n.id) FROM notes n
                              WHERE n.subject_type = 'child' AND n.subject_id = c.id
                                AND n.kind = 'CONFIDENTIAL'), '{}') END
$$;

-- Whether the caller reads the confidential notes: PostGraphile answers a NULL array as [],
-- so the documents ask this too, and a false is the service's null (bench/peer.py as_ours).
CREATE OR REPLACE FUNCTION families_confidential_readable(f families) RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT peer_reads('confidential_read', f.id, f.registered_setting_id) $$;
CREATE OR REPLACE FUNCTION carers_confidential_readable(c carers) RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT peer_reads_family('confidential_read', c.family_id) $$;
CREATE OR REPLACE FUNCTION children_confidential_readable(c children) RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT peer_reads_family('confidential_read', c.family_id) $$;

CREATE OR REPLACE FUNCTION notes_author_name(n notes) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT u.display_name FROM users u WHERE u.id = n.author_id $$;

CREATE OR REPLACE FUNCTION children_child_protection_plan(c children) RETURNS child_protection_plans
LANGUAGE sql STABLE AS $$
  SELECT p.* FROM child_protection_plans p
   WHERE p.child_id = c.id AND p.end_date IS NULL
   ORDER BY p.id LIMIT 1
$$;

------------------------------------------------------------------------------
-- Row-level security (the service's owner connection is not subject to it)
------------------------------------------------------------------------------
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS peer_notes ON notes;
CREATE POLICY peer_notes ON notes FOR SELECT TO bench_peer_user USING (
  CASE kind WHEN 'HISTORY' THEN peer_reads_family('secondary_read', family_id)
            WHEN 'CONFIDENTIAL' THEN peer_reads_family('confidential_read', family_id)
            ELSE false END
);
ALTER TABLE affiliations ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS peer_affiliations ON affiliations;
CREATE POLICY peer_affiliations ON affiliations FOR SELECT TO bench_peer_user USING (
  peer_reads_family('secondary_read', family_id)
);
ALTER TABLE child_protection_plans ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS peer_plans ON child_protection_plans;
CREATE POLICY peer_plans ON child_protection_plans FOR SELECT TO bench_peer_user USING (
  peer_reads_family('cp_plan_read', (SELECT k.family_id FROM children k WHERE k.id = child_id))
);

------------------------------------------------------------------------------
-- Grants: read-only, nothing else of the service's database
------------------------------------------------------------------------------
GRANT USAGE ON SCHEMA public TO bench_peer_user;
GRANT SELECT ON settings, families, carers, children, carer_children, affiliations, notes,
                child_protection_plans TO bench_peer_user;
GRANT SELECT (id, display_name) ON users TO bench_peer_user;
GRANT EXECUTE ON FUNCTION peer_all(text), peer_settings(text), peer_affiliated(text, integer),
  peer_reads(text, integer, integer), peer_reads_family(text, integer),
  peer_notes(text, integer, text), families_general_note(families), carers_ethnicity(carers),
  carers_language(carers), children_ethnicity(children), children_language(children),
  families_access_read(families), families_access_write(families), families_notes(families),
  carers_notes(carers), children_notes(children), families_confidential_notes(families),
  carers_confidential_notes(carers), children_confidential_notes(children),
  families_confidential_readable(families), carers_confidential_readable(carers),
  children_confidential_readable(children),
  notes_author_name(notes), children_child_protection_plan(children) TO bench_peer_user;
