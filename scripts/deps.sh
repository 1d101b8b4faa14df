#!/bin/sh
# Install the Debian 12 packages that building and testing kmem need, if missing.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev clang-format
libncurses-dev libcmocka-dev libmicrohttpd-dev libyaml-dev libcap-dev libcrypt-dev zlib1g-dev
procps prometheus prometheus-node-exporter curl jq tmux util-linux apache2-utils hyperfine
man-db groff-base iproute2 python3 python3-yaml python3-jsonschema openssl
bsdextrautils systemd gzip
podman buildah mmdebstrap runc
qemu-system-x86 busybox-static cpio"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run as root (or install these with sudo apt-get install:$missing)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
