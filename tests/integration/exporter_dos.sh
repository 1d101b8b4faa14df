#!/bin/sh
# kmem_exporter under denial-of-service clients on loopback (issue 14):
# slow requests from four addresses must not starve a scrape from a fifth,
# and a flood of wrong passwords must not slow authenticated scrapes.
# The clients are in exporter_dos.py; each part runs for a bounded time.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
DOS="$(dirname "$0")/exporter_dos.py"

P=$(free_port)
spawn "$T/slow.log" "$E" --web.listen-address "127.0.0.1:$P" --root "$SHARED_FIXTURE"
check "exporter answers" wait_url "http://127.0.0.1:$P/metrics"
timeout 120 python3 "$DOS" slowloris "$P"
check "slowloris client finished" test $? -eq 0
stop_all

H1=$(htpasswd -nbBC 10 prometheus 's3cret!' | cut -d: -f2- | tr -d '\n')
H2=$(htpasswd -nbBC 10 second 'other-pass' | cut -d: -f2- | tr -d '\n')
printf 'basic_auth_users:\n  prometheus: %s\n  second: %s\n' "$H1" "$H2" >"$T/web.yml"
P=$(free_port)
spawn "$T/auth.log" "$E" --web.listen-address "127.0.0.1:$P" --root "$SHARED_FIXTURE" \
    --web.config.file "$T/web.yml"
check "authenticated exporter answers" wait_url "http://127.0.0.1:$P/metrics" 10 -u 'prometheus:s3cret!'
timeout 120 python3 "$DOS" badpass "$P" prometheus 's3cret!' second 'other-pass'
check "wrong-password client finished" test $? -eq 0

# SIGTERM while password checks wait (suspended connections): a clean stop.
pid=$spawned
for a in 2 3 4 5 6 7; do
    for i in 1 2 3; do
        curl -s -o /dev/null -m 10 --interface "127.0.0.$a" -u "prometheus:bad$i" \
            "http://127.0.0.1:$P/metrics" &
    done
done
sleep 0.3
kill "$pid"
wait "$pid"
check_eq "stopped cleanly during password checks (exit status)" 0 $?
check "no libmicrohttpd complaint at stop" sh -c "! grep -qi 'fatal\|suspend' '$T/auth.log'"
wait
finish
