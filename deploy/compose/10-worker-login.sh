#!/bin/sh
# The login of Ragline's workers in docker-compose.yml: WORKER_LOGIN, with the password held in the
# file WORKER_PASSWORD_FILE (a compose secret). The postgres image runs this script once, on a new
# volume's first start; compose's migrate service then grants the login ragline_worker
# (`ragline migrate --worker-login`). Run it again to create the login on a volume made before it
# existed, or to give the login a new password (after changing the file; restart the workers then):
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/10-worker-login.sh
# The password goes from the file to psql inside psql (a backquoted \set): never on a command line.
psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-postgres}" \
  --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
  --set login="${WORKER_LOGIN:?WORKER_LOGIN is not set}" \
  --set password_file="${WORKER_PASSWORD_FILE:?WORKER_PASSWORD_FILE is not set}" <<'SQL'
\set password `cat :'password_file'`
select not exists (select from pg_roles where rolname = :'login') as missing \gset
\if :missing
create role :"login" login password :'password';
\echo created the login :login
\else
alter role :"login" with login password :'password';
\echo set the password of the login :login
\endif
SQL
