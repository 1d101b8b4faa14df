#!/bin/sh
# kmem_exporter refuses what it cannot serve safely (issue 14): absurd
# --collect.min-interval values, --run-as root, web configs that are FIFOs
# or otherwise bad (each refused at once, naming the file and line).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
R="--root $SHARED_FIXTURE"

# --collect.min-interval: a duration from 0 to 1h.
for v in 1e308m 1e400 -1 -0 NaN nan inf 0x10 ' 5' 3601 61m 2h 1.5h 5d ''; do
    "$E" --once $R --collect.min-interval "$v" >/dev/null 2>"$T/err"
    st=$?
    check "--collect.min-interval '$v' refused (exit $st)" \
        sh -c "[ $st -eq 2 ] && grep -q 'a duration from 0 to 1h' '$T/err'"
done
for v in 0 0.5 1 500ms 2m 1h 3600s 1e3; do
    "$E" --once $R --collect.min-interval "$v" >/dev/null 2>&1
    check_eq "--collect.min-interval '$v' accepted" 0 $?
done

# --run-as: uid 0 by any name is refused before anything starts.
for u in root 0; do
    st=$(timeout 5 "$E" --run-as "$u" --web.listen-address 127.0.0.1:0 $R 2>"$T/err" >/dev/null; echo $?)
    check "--run-as $u refused (exit $st)" sh -c "[ $st -eq 2 ] && grep -q 'uid 0' '$T/err'"
done

# Web configs: refused at once (well under the 5 s timeout), naming the file.
mkfifo "$T/fifo.yml" "$T/fifo.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$T/s.key" -out "$T/s.crt" -subj /CN=localhost >/dev/null 2>&1
chmod 600 "$T/s.key"
printf '# no certificate\n' >"$T/empty.pem"
H15='$2y$15$5RnMuvkNWUMHxf0tqhLheuGPSUfomVc7Iauk/lMgj.CJ2PhLADnce'
TLS="tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n"
bad() { # NAME CONTENT EXPECTED-MESSAGE
    printf "$2" >"$T/$1.yml"
    t0=$(date +%s%N)
    timeout 5 "$E" --web.config.file "$T/$1.yml" --web.listen-address 127.0.0.1:0 $R \
        >/dev/null 2>"$T/err"
    st=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    # Messages are logfmt: quotes inside a value are escaped (\").
    if [ $st -eq 1 ] && sed 's/\\"/"/g' "$T/err" | grep -qF -- "$3"; then
        ok "web config $1 refused in $ms ms: $(head -c 160 "$T/err")"
    else
        not_ok "web config $1: exit $st after $ms ms, expected '$3': $(head -c 300 "$T/err")"
    fi
}
t0=$(date +%s%N)
timeout 5 "$E" --web.config.file "$T/fifo.yml" --web.listen-address 127.0.0.1:0 $R >/dev/null 2>"$T/err"
st=$?
check "web config that is a FIFO refused at once (exit $st, $(( ($(date +%s%N) - t0) / 1000000 )) ms)" \
    sh -c "[ $st -eq 1 ] && grep -qF '$T/fifo.yml: cannot read the web configuration: a FIFO, not a regular file' '$T/err'"
bad fifo-cert "tls_server_config:\n  cert_file: fifo.pem\n  key_file: s.key\n" \
    "fifo-cert.yml: cannot read cert_file $T/fifo.pem: a FIFO, not a regular file"
bad fifo-ca "${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: fifo.pem\n" \
    "cannot read client_ca_file $T/fifo.pem: a FIFO"
bad empty-ca "${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: empty.pem\n" \
    "client_ca_file $T/empty.pem holds no certificate"
bad key-as-ca "${TLS}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: s.key\n" \
    "client_ca_file $T/s.key holds no certificate"
bad dir-cert "tls_server_config:\n  cert_file: .\n  key_file: s.key\n" "a directory, not a regular file"
bad header-ctl 'http_server_config:\n  headers:\n    Content-Security-Policy: "a\\x01b"\n' \
    "header-ctl.yml:3: header Content-Security-Policy: the value holds a control character"
bad header-del 'http_server_config:\n  headers:\n    X-XSS-Protection: "1\\x7f"\n' \
    "header-del.yml:3: header X-XSS-Protection: the value holds a control character (byte 0x7f)"
bad cost15 "basic_auth_users:\n  u: $H15\n" "cost15.yml:2: basic_auth_users: the hash of \"u\" has bcrypt cost 15"
bad unknown "${TLS}  bogus: 1\n" 'unknown.yml:4: unknown key "bogus" in tls_server_config'
bad tls11 "${TLS}  min_version: TLS11\n  max_version: TLS10\n" "min_version is above max_version"

# Warnings: the exporter starts, and says what is wrong.
printf "$TLS" >"$T/open.yml"
chmod 666 "$T/open.yml"
P=$(free_port)
spawn "$T/open.log" "$E" --web.config.file "$T/open.yml" --web.listen-address "127.0.0.1:$P" $R
check "world-writable web config: starts" wait_url "https://127.0.0.1:$P/metrics" 10 -k
check "world-writable web config: warned" \
    grep -q "level=WARN .*$T/open.yml is writable by other users" "$T/open.log"
finish
