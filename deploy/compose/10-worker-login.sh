#!/bin/sh
# The login of Ragline's workers in docker-compose.yml: WORKER_LOGIN, with the password held in the
# file WORKER_PASSWORD_FILE (a compose secret). The postgres image runs this script once, on a new
# volume's first start; compose's migrate service then grants the login ragline_worker
# (`ragline migrate --worker-login`). Run it again to create the login on a volume made before it
# existed, or to give the login a new password (after changing the file; restart the workers then):
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/10-worker-login.sh
# The password goes from the file to psql inside psql (a backquoted \set): never on a command line.
# It is read as Ragline's DATABASE_PASSWORD_FILE reads it: without the trailing line breaks (rtrim), and
# a file that is missing or blank is an error, not a login without a password.
password_file=${WORKER_PASSWORD_FILE:?WORKER_PASSWORD_FILE is not set}
if ! grep -q '[^[:space:]]' "$password_file" 2>/dev/null; then
  echo "10-worker-login.sh: WORKER_PASSWORD_FILE='$password_file' cannot be read or is empty" >&2
  exit 1
fi
psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-postgres}" \
  --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
  --set login="${WORKER_LOGIN:?WORKER_LOGIN is not set}" \
  --set password_file="$password_file" <<'SQL'
\set raw `cat :'password_file'`
select rtrim(:'raw', chr(13) || chr(10)) as password \gset
select not exists (select from pg_roles where rolname = :'login') as missing \gset
\if :missing
create role :"login" login password :'password';
\echo created the login :login
\else
alter role :"login" with login password :'password';
\echo set the password of the login :login
\endif
SQL
