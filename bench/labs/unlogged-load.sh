#!/bin/bash
# Decision 186 (issue 14): is a parallel load held back by WAL? pgbench_accounts loaded logged vs UNLOGGED + SET LOGGED.
# Run as root on a quiet machine: ./bench/labs/unlogged-load.sh (Debian PostgreSQL 15 binaries, a cluster in /tmp/lab).
set -e
B=/usr/lib/postgresql/15/bin
D=/tmp/lab/data
P=55432
if [ ! -d $D ]; then
  mkdir -p /tmp/lab && chmod 777 /tmp/lab && install -d -o postgres /tmp/lab/data
  su postgres -c "$B/initdb -D $D -A trust -U postgres >/dev/null"
fi
su postgres -c "$B/pg_ctl -D $D -o '-p $P -c max_wal_size=4GB -c unix_socket_directories=/tmp/lab' -l /tmp/lab/log start >/dev/null"
sleep 2
PSQL="$B/psql -h /tmp/lab -p $P -U postgres -X -q"
if [ ! -f /tmp/lab/acc1.copy ]; then
  $PSQL -c "CREATE DATABASE src"
  $B/pgbench -h /tmp/lab -p $P -U postgres -i -s 50 -q src >/dev/null 2>&1
  $PSQL -d src -c "\copy (SELECT * FROM pgbench_accounts WHERE aid <= 2500000) TO '/tmp/lab/acc1.copy'"
  $PSQL -d src -c "\copy (SELECT * FROM pgbench_accounts WHERE aid > 2500000) TO '/tmp/lab/acc2.copy'"
  cat /tmp/lab/acc1.copy /tmp/lab/acc2.copy > /tmp/lab/acc.copy
fi
DDL="CREATE TABLE a (aid integer NOT NULL, bid integer, abalance integer, filler character(84)) WITH (fillfactor=100);"
t() { date +%s.%N; }
for round in 1 2 3; do
  for variant in one two unlogged-two unlogged-one; do
    $PSQL -c "DROP DATABASE IF EXISTS lab" -c "CREATE DATABASE lab"
    $PSQL -d lab -c "$DDL"
    $PSQL -c "CHECKPOINT"
    s=$(t)
    case $variant in
      one) $PSQL -d lab -c "\copy a FROM '/tmp/lab/acc.copy'" ;;
      two) $PSQL -d lab -c "\copy a FROM '/tmp/lab/acc1.copy'" & $PSQL -d lab -c "\copy a FROM '/tmp/lab/acc2.copy'"; wait ;;
      unlogged-two) $PSQL -d lab -c "ALTER TABLE a SET UNLOGGED"; $PSQL -d lab -c "\copy a FROM '/tmp/lab/acc1.copy'" & $PSQL -d lab -c "\copy a FROM '/tmp/lab/acc2.copy'"; wait ;;
      unlogged-one) $PSQL -d lab -c "ALTER TABLE a SET UNLOGGED"; $PSQL -d lab -c "\copy a FROM '/tmp/lab/acc.copy'" ;;
    esac
    l=$(t)
    case $variant in unlogged-*) $PSQL -d lab -c "ALTER TABLE a SET LOGGED" ;; esac
    g=$(t)
    $PSQL -d lab -c "ALTER TABLE a ADD PRIMARY KEY (aid)"
    e=$(t)
    echo "$round $variant load=$(echo "$l - $s" | bc) setlogged=$(echo "$g - $l" | bc) pk=$(echo "$e - $g" | bc) total=$(echo "$e - $s" | bc)"
  done
done
su postgres -c "$B/pg_ctl -D $D stop >/dev/null"
