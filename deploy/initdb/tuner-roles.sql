-- The study database and tuner's two roles, on a PostgreSQL 15 (or later) server:
--
--   tuner            the database the studies live in (owned by the administrator who runs this)
--   tuner_worker     read-write: creates Optuna's tables on first use and owns them; what
--                    `tuner worker`, `tuner launch` and the create-study service log in as
--   tuner_dashboard  SELECT only on those tables, read-only transactions by default, a
--                    statement timeout: what the dashboard logs in as
--
-- The db container runs this file once, on an empty data volume (docker-compose.yml mounts
-- deploy/initdb/ as /docker-entrypoint-initdb.d); tests/test_deploy.py runs the same file on
-- the test server. Run it by hand (as a superuser, or a role with CREATEROLE and CREATEDB) on
-- any other server; it is idempotent, so running it again sets the passwords again:
--
--   TUNER_WORKER_PASSWORD=... TUNER_DASHBOARD_PASSWORD=... \
--     psql -h HOST -U ADMIN -d postgres -f deploy/initdb/tuner-roles.sql
--
-- The passwords: the psql variables worker_password and dashboard_password when given
-- (psql -v), else the environment variables TUNER_WORKER_PASSWORD and TUNER_DASHBOARD_PASSWORD
-- (psql 15's \getenv). Neither is ever written to a file by this script; the server stores
-- SCRAM-SHA-256 hashes (password_encryption's default since PostgreSQL 14).

\set ON_ERROR_STOP on
\set QUIET on

\if :{?worker_password}
\else
  \getenv worker_password TUNER_WORKER_PASSWORD
\endif
\if :{?dashboard_password}
\else
  \getenv dashboard_password TUNER_DASHBOARD_PASSWORD
\endif
\if :{?worker_password}
\else
  \set worker_password ''
\endif
\if :{?dashboard_password}
\else
  \set dashboard_password ''
\endif

-- Refuse to create a role without a real password rather than invent one.
SELECT length(:'worker_password') >= 12 AS worker_ok,
       length(:'dashboard_password') >= 12 AS dashboard_ok,
       :'worker_password' <> :'dashboard_password' AS distinct_ok \gset
\if :worker_ok
\else
  DO $$ BEGIN RAISE EXCEPTION 'tuner-roles.sql: TUNER_WORKER_PASSWORD is missing or shorter than 12 characters'; END $$;
\endif
\if :dashboard_ok
\else
  DO $$ BEGIN RAISE EXCEPTION 'tuner-roles.sql: TUNER_DASHBOARD_PASSWORD is missing or shorter than 12 characters'; END $$;
\endif
\if :distinct_ok
\else
  DO $$ BEGIN RAISE EXCEPTION 'tuner-roles.sql: the worker and dashboard passwords must differ'; END $$;
\endif

-- Roles: created once, their attributes and passwords (re)set on every run.
SELECT 'CREATE ROLE tuner_worker' WHERE NOT EXISTS
       (SELECT FROM pg_roles WHERE rolname = 'tuner_worker') \gexec
SELECT 'CREATE ROLE tuner_dashboard' WHERE NOT EXISTS
       (SELECT FROM pg_roles WHERE rolname = 'tuner_dashboard') \gexec

ALTER ROLE tuner_worker WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
      NOBYPASSRLS INHERIT CONNECTION LIMIT -1 PASSWORD :'worker_password';
-- A worker frozen or cut off inside a transaction (its machine hung, its network gone) holds its
-- row locks, e.g. on the study row while it creates a trial, and every other worker waits on
-- them; tuner's transactions last milliseconds, so after 10 s idle in one the server ends the
-- session and the locks go (well inside the workers' 60 s statement timeout). A live worker
-- whose session was ended reconnects and retries.
ALTER ROLE tuner_worker SET idle_in_transaction_session_timeout = '10s';
-- What tuner asks for on its own connections, also here for connections that cannot pass it
-- (through PgBouncer with ignore_startup_parameters = options; docs/deploy.md).
ALTER ROLE tuner_worker SET statement_timeout = '60s';

ALTER ROLE tuner_dashboard WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
      NOBYPASSRLS CONNECTION LIMIT 16 PASSWORD :'dashboard_password';
ALTER ROLE tuner_dashboard SET default_transaction_read_only = on;
ALTER ROLE tuner_dashboard SET statement_timeout = '30s';
ALTER ROLE tuner_dashboard SET lock_timeout = '5s';
ALTER ROLE tuner_dashboard SET idle_in_transaction_session_timeout = '60s';

-- The database: only the two roles (and superusers) may connect; only the worker may create
-- temporary tables.
SELECT 'CREATE DATABASE tuner ENCODING ''UTF8'' TEMPLATE template0' WHERE NOT EXISTS
       (SELECT FROM pg_database WHERE datname = 'tuner') \gexec
REVOKE ALL ON DATABASE tuner FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE tuner TO tuner_worker;
GRANT CONNECT ON DATABASE tuner TO tuner_dashboard;

\connect tuner
-- Schema public: PostgreSQL 15 no longer lets PUBLIC create in it; take its USAGE away too, so
-- a role is only what is granted here.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO tuner_worker;
GRANT USAGE ON SCHEMA public TO tuner_dashboard;
-- Optuna's tables are created by tuner_worker on first use (and by `optuna storage upgrade`
-- run as tuner_worker): the dashboard may read each of them, now and later, and nothing else.
ALTER DEFAULT PRIVILEGES FOR ROLE tuner_worker IN SCHEMA public
      GRANT SELECT ON TABLES TO tuner_dashboard;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO tuner_dashboard;

\echo 'tuner-roles.sql: database tuner, roles tuner_worker (read-write) and tuner_dashboard (read-only) ready'
