#!/bin/sh
# Boot one kernel with one initramfs under qemu (TCG, the pc machine, no disk,
# no network device), bounded by a timeout:
#   boot.sh VMLINUZ INITRAMFS OUT [TIMEOUT_SECONDS]
# OUT.console gets the serial console (ttyS0: kernel and progress messages),
# OUT.data the second serial port (ttyS1: the scenario's data blocks).
# Exit status: qemu's, or 124 on timeout.
# (microvm boots a second faster but hung in the kernel's decompressor in
# about half the boots on this loaded 2-core host; pc never did.)
# The CPU is qemu64 without CMPXCHG16B: qemu 7.2's TCG corrupts RFLAGS around
# the kernel's cmpxchg16b (SLUB's per-CPU fast path), which 6.12 turned into
# spurious #DB warnings, failed crypto self-tests and double faults in about
# every other boot; without CX16 the kernel uses its software fallback.
set -eu
K=$1
I=$2
OUT=$3
T=${4:-120}
: >"$OUT.data"
exec timeout -k 5 "$T" qemu-system-x86_64 -M pc -accel tcg -cpu qemu64,-cx16 -smp 1 -m 512 \
    -nodefaults -no-user-config -nographic -no-reboot \
    -kernel "$K" -initrd "$I" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 ${KMEM_VM_APPEND:-}" \
    -serial "file:$OUT.console" \
    -serial "file:$OUT.data" \
    </dev/null >"$OUT.qemu" 2>&1
