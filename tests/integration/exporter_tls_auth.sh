#!/bin/sh
# kmem_exporter with an exporter-toolkit web config: TLS with a self-signed
# certificate (openssl) and basic auth with a bcrypt hash (htpasswd): the
# right password gives 200, a wrong one or none 401, plain HTTP on the TLS
# port fails, min_version is enforced, client certificates are checked under
# RequireAndVerifyClientCert. Then --run-as nobody: CapEff and CapPrm are
# exactly CAP_DAC_READ_SEARCH, the uid is nobody's, and a live scrape still
# has the slab series (/proc/slabinfo is 0400 root).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exporter.lib.sh"
T=$(tmpdir)
trap 'stop_all; rm -rf "$T"' EXIT INT TERM

if [ "$(id -u)" -ne 0 ]; then
    not_ok "exporter_tls_auth must run as root (--run-as)"
    finish
fi

ossl() { openssl "$@" >>"$T/openssl.log" 2>&1; }
# Server certificate for 127.0.0.1, a client CA, a client signed by it, and
# a self-signed client the CA never saw.
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$T/server.key" -out "$T/server.crt" -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$T/ca.key" -out "$T/ca.crt" -subj /CN=kmem-test-ca
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/client.key" \
    -out "$T/client.csr" -subj /CN=scraper
ossl x509 -req -in "$T/client.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -out "$T/client.crt"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$T/rogue.key" -out "$T/rogue.crt" -subj /CN=rogue
check "openssl made the certificates" test -s "$T/client.crt" -a -s "$T/rogue.crt"

HASH=$(htpasswd -nbBC 10 prometheus 's3cret!' | cut -d: -f2- | tr -d '\n')
cat >"$T/web.yml" <<EOC
tls_server_config:
  cert_file: server.crt
  key_file: $T/server.key
basic_auth_users:
  prometheus: $HASH
EOC

P=$(free_port)
spawn "$T/tls.log" "$E" --web.listen-address "127.0.0.1:$P" --web.config.file "$T/web.yml" \
    --root "$SHARED_FIXTURE"
U="https://127.0.0.1:$P/metrics"
C="--cacert $T/server.crt"
check "TLS exporter answers with the right password" wait_url "$U" 10 $C -u 'prometheus:s3cret!'
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
check_eq "right password: 200" 200 "$(code $C -u 'prometheus:s3cret!' "$U")"
check "right password: metrics" grep -q '^kmem_slab_objects{cache="bio-312"} 12$' "$T/body"
check_eq "wrong password: 401" 401 "$(code $C -u 'prometheus:wrong' "$U")"
check_eq "unknown user: 401" 401 "$(code $C -u 'root:s3cret!' "$U")"
check_eq "a user named by a prefix of the known one: 401" 401 "$(code $C -u 'prom:s3cret!' "$U")"
check_eq "a user named by the known one and more: 401" 401 "$(code $C -u 'prometheus2:s3cret!' "$U")"
check_eq "an empty user name: 401" 401 "$(code $C -u ':s3cret!' "$U")"
check_eq "no password: 401" 401 "$(code $C "$U")"
check "401 asks for basic auth" sh -c "curl -s -D - -o /dev/null $C '$U' | grep -qi '^WWW-Authenticate: Basic'"
check_eq "landing page needs the password too" 401 "$(code $C "https://127.0.0.1:$P/")"
plain=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/metrics")
check "plain HTTP on the TLS port fails (got $plain)" test "$plain" != 200
check_eq "repeat with the right password (cached check): 200" 200 \
    "$(code $C -u 'prometheus:s3cret!' "$U")"
check_eq "TLS exporter still answers after plain HTTP" 200 "$(code $C -u 'prometheus:s3cret!' "$U")"
# After a good login is cached: a wrong password is still refused, twice
# (the cache holds the good one only), and the good one still passes.
check_eq "wrong password after a cached login: 401" 401 "$(code $C -u 'prometheus:wrong' "$U")"
check_eq "the same wrong password again: 401" 401 "$(code $C -u 'prometheus:wrong' "$U")"
check_eq "the right password after wrong ones: 200" 200 "$(code $C -u 'prometheus:s3cret!' "$U")"

# min_version TLS13: a TLS 1.2 client is refused.
P2=$(free_port)
cat >"$T/web13.yml" <<EOC
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS13
EOC
spawn "$T/tls13.log" "$E" --web.listen-address "127.0.0.1:$P2" --web.config.file "$T/web13.yml" \
    --root "$SHARED_FIXTURE"
U2="https://127.0.0.1:$P2/metrics"
check "TLS 1.3 client accepted" wait_url "$U2" 10 $C --tlsv1.3
check_eq "TLS 1.2 client refused with min_version TLS13" 000 "$(code $C --tls-max 1.2 "$U2")"
# max_version TLS12: a client that only speaks TLS 1.3 is refused, 1.2 is fine.
P6=$(free_port)
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  max_version: TLS12\n' >"$T/web12.yml"
spawn "$T/tls12.log" "$E" --web.listen-address "127.0.0.1:$P6" --web.config.file "$T/web12.yml" \
    --root "$SHARED_FIXTURE"
U6="https://127.0.0.1:$P6/metrics"
check "TLS 1.2 client accepted with max_version TLS12" wait_url "$U6" 10 $C --tls-max 1.2
check_eq "TLS 1.3-only client refused with max_version TLS12" 000 "$(code $C --tlsv1.3 "$U6")"

# Client certificates.
P3=$(free_port)
cat >"$T/webca.yml" <<EOC
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
EOC
spawn "$T/tlsca.log" "$E" --web.listen-address "127.0.0.1:$P3" --web.config.file "$T/webca.yml" \
    --root "$SHARED_FIXTURE"
U3="https://127.0.0.1:$P3/metrics"
CC="--cert $T/client.crt --key $T/client.key"
check "client certificate from the CA accepted" wait_url "$U3" 10 $C $CC
check_eq "client certificate from the CA: 200" 200 "$(code $C $CC "$U3")"
c=$(code $C "$U3")
check "no client certificate refused (got $c)" test "$c" != 200
c=$(code $C --cert "$T/rogue.crt" --key "$T/rogue.key" "$U3")
check "client certificate from elsewhere refused (got $c)" test "$c" != 200

# Every client_auth_type (Go's tls.ClientAuthType, as exporter-toolkit reads
# it) against no certificate, the CA's and a self-signed one: 200 or refused.
# "none ca rogue": y = answered 200, n = refused.
nauth=0
for spec in "RequestClientCert:y y y" "RequireAnyClientCert:n y y" \
    "VerifyClientCertIfGiven:y y n" "RequireAndVerifyClientCert:n y n"; do
    at=${spec%%:*}
    want=${spec#*:}
    printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: %s\n  client_ca_file: ca.crt\n' \
        "$at" >"$T/web-$at.yml"
    P5=$(free_port)
    spawn "$T/tls-$at.log" "$E" --web.listen-address "127.0.0.1:$P5" --web.config.file "$T/web-$at.yml" \
        --root "$SHARED_FIXTURE"
    U5="https://127.0.0.1:$P5/metrics"
    check "$at: answers" wait_url "$U5" 10 $C $CC
    got=""
    for cert in "" "$CC" "--cert $T/rogue.crt --key $T/rogue.key"; do
        # shellcheck disable=SC2086 # $cert is curl's flags, or none
        c=$(code $C $cert "$U5")
        if [ "$c" = 200 ]; then got="$got y"; else got="$got n"; fi
    done
    check_eq "$at: no certificate, the CA's, a self-signed one" "$want" "${got# }"
    nauth=$((nauth + 1))
done
check_eq "client_auth_type: 4 policies x 3 clients compared" 4 "$nauth"

# Bad web configs stop the start with a message naming the file and line.
printf 'tls_server_config:\n  cert_file: a\n  key_file: b\n  bogus: 1\n' >"$T/bad.yml"
"$E" --web.config.file "$T/bad.yml" --web.listen-address 127.0.0.1:0 2>"$T/bad.err" &
bp=$!
sleep 1
if kill -0 $bp 2>/dev/null; then
    kill $bp
    not_ok "bad web config refused"
else
    wait $bp
    check "bad web config refused with file:line" grep -q 'level=ERROR .*bad.yml:4: unknown key \\"bogus\\"' "$T/bad.err"
fi

# --run-as nobody on the live machine.
P4=$(free_port)
spawn "$T/runas.log" "$E" --web.listen-address "127.0.0.1:$P4" --run-as nobody
pid=$spawned
check "--run-as nobody: answers" wait_url "http://127.0.0.1:$P4/metrics"
st=/proc/$pid/status
check_eq "--run-as: CapEff is CAP_DAC_READ_SEARCH only" 0000000000000004 \
    "$(awk '$1 == "CapEff:" {print $2}' "$st")"
check_eq "--run-as: CapPrm is CAP_DAC_READ_SEARCH only" 0000000000000004 \
    "$(awk '$1 == "CapPrm:" {print $2}' "$st")"
check_eq "--run-as: CapInh empty" 0000000000000000 "$(awk '$1 == "CapInh:" {print $2}' "$st")"
check_eq "--run-as: CapAmb empty" 0000000000000000 "$(awk '$1 == "CapAmb:" {print $2}' "$st")"
check_eq "--run-as: CapBnd is CAP_DAC_READ_SEARCH only" 0000000000000004 \
    "$(awk '$1 == "CapBnd:" {print $2}' "$st")"
nuid=$(id -u nobody)
check_eq "--run-as: real/effective/saved/fs uid are nobody's" "$nuid $nuid $nuid $nuid" \
    "$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' "$st")"
check_eq "--run-as: no_new_privs" 1 "$(awk '$1 == "NoNewPrivs:" {print $2}' "$st")"
curl -s "http://127.0.0.1:$P4/metrics" >"$T/runas.txt"
check "--run-as: live scrape has kmem_slab_objects series" grep -q '^kmem_slab_objects{cache=' "$T/runas.txt"
check "--run-as: slabinfo collector succeeds" grep -q '^kmem_collector_success{collector="slabinfo"} 1$' "$T/runas.txt"
check "--run-as: cgroup collector succeeds" grep -q '^kmem_collector_success{collector="cgroup"} 1$' "$T/runas.txt"
check_eq "--run-as: unknown user refused" 1 \
    "$("$E" --run-as no-such-user-kmem --web.listen-address 127.0.0.1:0 >/dev/null 2>&1; echo $?)"
finish
