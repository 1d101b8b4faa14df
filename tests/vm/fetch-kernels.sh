#!/bin/sh
# Fetch the Debian cloud kernels the VM tests boot, once, into a cache outside
# the repository (KMEM_VM_CACHE, default /var/cache/kmem-vm). The kernels are
# listed in tests/vm/kernels.list, one line per kernel (suite, default/extra,
# what it is).
#
# For each suite: a private apt configuration (sources, lists and cache under
# the cache directory; /etc/apt is never touched) pointing at the Debian mirror
# of this machine's own apt sources, then `apt-get download` of the image
# package that linux-image-cloud-amd64 depends on, unpacked with dpkg-deb -x.
# A suite the mirror no longer has (bullseye, moving to the archive) is
# fetched from archive.debian.org instead, when that answers.
# A suite already unpacked is not fetched again (no network needed then).
# Only the kernel image and its config are kept: the tests need no module.
#
# Usage: fetch-kernels.sh [SUITE...]   (default: the "default" lines of kernels.list)
# Prints one line per suite: SUITE RELEASE DIR (DIR holds vmlinuz and config).
# Exit status 1 if any suite could not be fetched (the others are printed).
set -eu
CACHE=${KMEM_VM_CACHE:-/var/cache/kmem-vm}
LIST=$(dirname "$0")/kernels.list
SUITES=${*:-$(awk '!/^#/ && $2 == "default" { print $1 }' "$LIST")}
ARCHIVE=http://archive.debian.org/debian
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# The Debian mirror of this machine: the first URI of a deb source whose suite
# is bookworm (deb822 .sources files, then one-line .list files).
mirror() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
        {
            uris = ""; suites = ""; types = ""
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
                if ($i ~ /^Suites:/) { suites = " " $i " " }
                if ($i ~ /^Types:/) { types = $i }
            }
            if (types ~ /[ \t]deb([ \t]|$)/ && suites ~ /[ \t]bookworm[ \t]/) {
                split(uris, u, /[ \t]+/); print u[1]; exit
            }
        }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+bookworm[ \t].*/\2/p' "$f"
    done
}

# The real image package behind the meta-package, e.g.
# linux-image-6.1.0-37-cloud-amd64 (backports: 6.12.x+bpo-cloud-amd64); "" if none.
image_pkg() { # apt options
    apt-cache "$@" depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\(-unsigned\)\?\)$/\1/p' | head -n 1
}

fetch() { # suite
    suite=$1
    d=$CACHE/kernels/$suite
    if [ -f "$d/vmlinuz" ] && [ -f "$d/release" ]; then
        echo "$suite $(cat "$d/release") $d"
        return 0
    fi
    uri=$(mirror | head -n 1)
    if [ -z "$uri" ]; then
        echo "fetch-kernels: no Debian bookworm mirror in /etc/apt/sources.list{,.d}" >&2
        return 1
    fi
    a=$CACHE/apt/$suite
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/debs" "$a/preferences.d"
    echo "deb [signed-by=$KEYRING] $uri $suite main" >"$a/sources.list"
    set -- -o Dir::Etc::sourcelist="$a/sources.list" -o Dir::Etc::sourceparts=- \
        -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" \
        -o Dir::Etc::preferences="$a/preferences" -o Dir::Etc::preferencesparts="$a/preferences.d" \
        -o APT::Sandbox::User=root -o Acquire::Languages=none
    set -- "$@" -o Acquire::http::Timeout=30 -o Acquire::Retries=1
    echo "fetch-kernels: $suite from $uri" >&2
    pkg=
    if apt-get -q "$@" update >&2; then
        pkg=$(image_pkg "$@")
    fi
    if [ -z "$pkg" ] && [ "$uri" != "$ARCHIVE" ]; then
        # Gone from the mirror (an old release moved to the archive): the
        # archive's Release files are past their Valid-Until, by design.
        echo "fetch-kernels: $suite: not on $uri; trying $ARCHIVE" >&2
        echo "deb [signed-by=$KEYRING] $ARCHIVE $suite main" >"$a/sources.list"
        rm -f "$a/lists"/*_dists_* 2>/dev/null || :
        if apt-get -q "$@" -o Acquire::Check-Valid-Until=false update >&2; then
            pkg=$(image_pkg "$@")
        fi
    fi
    if [ -z "$pkg" ]; then
        echo "fetch-kernels: $suite: no linux-image-cloud-amd64 image package reachable" \
            "(network, or the suite is gone from $uri and $ARCHIVE)" >&2
        return 1
    fi
    # From 7.x the image package is a shell: the kernel is in linux-binary-<abi>
    # (usr/lib/modules/<abi>/vmlinuz) and its config in linux-base-<abi>.
    bin=$(apt-cache "$@" depends "$pkg" |
        sed -n 's/^ *Depends: \(linux-\(binary\|base\)-[0-9][^ ]*-cloud-amd64\)$/\1/p' |
        sort -u | tr '\n' ' ')
    if ! ls "$a/debs/${pkg}_"*.deb >/dev/null 2>&1 ||
        { [ -n "$bin" ] && [ "$(find "$a/debs" -name '*.deb' | wc -l)" -lt 3 ]; }; then
        rm -f "$a/debs"/*.deb
        # shellcheck disable=SC2086 # $bin: package names or empty
        (cd "$a/debs" && apt-get -q "$@" download "$pkg" $bin >&2)
    fi
    rm -rf "$d.new"
    mkdir -p "$d.new"
    for deb in "$a/debs"/*.deb; do
        dpkg-deb -x "$deb" "$d.new/root"
    done
    for f in "$d.new"/root/boot/vmlinuz-* "$d.new"/root/usr/lib/modules/*/vmlinuz; do
        [ -f "$f" ] && cp "$f" "$d.new/vmlinuz"
    done
    for f in "$d.new"/root/boot/config-* "$d.new"/root/usr/lib/modules/*/config; do
        [ -f "$f" ] && cp "$f" "$d.new/config"
    done
    if [ ! -f "$d.new/vmlinuz" ] || [ ! -f "$d.new/config" ]; then
        echo "fetch-kernels: $suite: no vmlinuz or config in $pkg $bin" >&2
        return 1
    fi
    # /lib/modules, or /usr/lib/modules from trixie (merged /usr).
    for m in "$d.new"/root/lib/modules/* "$d.new"/root/usr/lib/modules/*; do
        [ -d "$m" ] && basename "$m" >"$d.new/release"
    done
    # No module is needed (serial, tmpfs, cgroups, unix and inet sockets are
    # built in): keep only the kernel and its config; the .deb stays in apt/.
    rm -rf "$d.new/root"
    rm -rf "$d"
    mv "$d.new" "$d"
    echo "$suite $(cat "$d/release") $d"
}

# One fetch at a time (two test runs may share the cache).
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
rc=0
for s in $SUITES; do
    fetch "$s" || rc=1
done
exit $rc
