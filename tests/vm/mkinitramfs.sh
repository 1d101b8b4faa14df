#!/bin/sh
# Build the VM initramfs from the current build:
#   mkinitramfs.sh BUILD OUT
# OUT/base.cpio: busybox-static, BUILD/kmemtop, BUILD/kmem_exporter and
# BUILD/tests/ownwalk_dump with
# every library ldd lists (and the dynamic loader), the charge helper
# (tests/vm/charge.c, static), vmpair (tests/vm/vmpair.c, static), cgfds
# and cgroups_bench (static, with
# BUILD/libkmem.a) and /vmlib.sh. OUT/<scenario>.cpio: base.cpio
# followed by a small archive holding tests/vm/guest/<scenario>.sh as /init
# (the kernel unpacks concatenated newc archives in order).
set -eu
B=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
R=$OUT/root
for p in "$B/kmemtop" "$B/kmem_exporter" /bin/busybox; do
    [ -x "$p" ] || { echo "mkinitramfs: missing $p" >&2; exit 1; }
done
rm -rf "$R" "$OUT"/*.cpio
mkdir -p "$R/bin" "$R/kmem" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/run" "$R/var/log" "$R/etc"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
cp "$B/kmemtop" "$B/kmem_exporter" "$R/kmem/"
ln -s kmemtop "$R/kmem/slabtop"
# The owner walk as text (guest/v2-owners.sh); absent in builds without BPF.
OWN=
if [ -x "$B/tests/ownwalk_dump" ]; then
    OWN=$B/tests/ownwalk_dump
    cp "$OWN" "$R/kmem/"
fi
for l in $(ldd "$B/kmemtop" "$B/kmem_exporter" $OWN |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u); do
    mkdir -p "$R$(dirname "$l")"
    cp -L "$l" "$R$l"
done
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -pthread -o "$R/kmem/charge" "$HERE/charge.c"
# vmallocinfo and the vmalloc counter at one moment (check_node.py).
${CC:-gcc} -static -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$R/kmem/vmpair" "$HERE/vmpair.c"
# libkmem's kept cgroup fds on v2 (guest/v2-fds.sh): a check and the benchmark.
TOP=$(cd "$HERE/../.." && pwd)
# libkmem.a holds the owner walker where kmem was built with BPF: link libbpf
# (static: libbpf, libelf, zlib and zstd archives of Debian's -dev packages).
BPFLIBS=
if [ -f "$B/bpf/kmem_owners.skel.h" ]; then
    BPFLIBS="$(pkg-config --static --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) -lzstd"
fi
${CC:-gcc} -static -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$TOP/src/common" -I"$TOP/src/lib" \
    -o "$R/kmem/cgfds" "$HERE/cgfds.c" "$B/libkmem.a" $BPFLIBS -lm
${CC:-gcc} -static -O2 -std=c17 -D_GNU_SOURCE -I"$TOP/src/common" -I"$TOP/src/lib" \
    -o "$R/kmem/cgroups_bench" "$TOP/bench/cgroups_bench.c" "$B/libkmem.a" $BPFLIBS -lm
cp "$HERE/guest/vmlib.sh" "$R/vmlib.sh"
echo "root:x:0:0:root:/:/bin/sh" >"$R/etc/passwd"
echo "root:x:0:" >"$R/etc/group"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$OUT/base.cpio"
for s in "$HERE"/guest/*.sh; do
    name=${s##*/}
    name=${name%.sh}
    [ "$name" = vmlib ] && continue
    rm -rf "$OUT/init.$name"
    mkdir -p "$OUT/init.$name"
    cp "$s" "$OUT/init.$name/init"
    chmod 755 "$OUT/init.$name/init"
    (cd "$OUT/init.$name" && echo init | cpio -o -H newc -R 0:0 --quiet) >"$OUT/init.cpio"
    cat "$OUT/base.cpio" "$OUT/init.cpio" >"$OUT/$name.cpio"
    rm -rf "$OUT/init.$name" "$OUT/init.cpio"
done
rm -rf "$R"
