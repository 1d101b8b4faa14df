#!/bin/sh
# A hung-up terminal ends kmemtop: its tmux (or ssh) goes away, getch()
# returns ERR at once, forever. Started with SIGHUP ignored (as under nohup or
# a shell that ignores it, which exec passes on), the live TUI, the replay TUI
# and the slabtop screen must still exit instead of spinning on the dead tty.
. "$(dirname "$0")/../lib.sh"
K="$B/kmemtop"
T=$(tmpdir)
SOCK="kmem-hangup-$$"
PIDS=
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
command -v tmux >/dev/null || { not_ok "tmux is installed (scripts/deps.sh)"; finish; }
[ -x "$K" ] || { not_ok "kmemtop is built at $K"; finish; }
"$K" --root "$SHARED_FIXTURE" --record "$T/rec" --record.count 1 --record.time 1796000000 --quiet
ln -s "$K" "$T/slabtop"

n=0
for what in live replay slabtop; do
    case $what in
    live) cmd="'$K' --root '$SHARED_FIXTURE'" ;;
    replay) cmd="'$K' --replay '$T/rec'" ;;
    slabtop) cmd="'$T/slabtop' -d 1" ;;
    esac
    tmux -L "$SOCK" new-session -d -x 80 -y 24 "trap '' HUP; echo \$\$ >'$T/$what.pid'; exec $cmd"
    i=0
    while [ ! -s "$T/$what.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    pid=$(cat "$T/$what.pid" 2>/dev/null)
    PIDS="$PIDS $pid"
    # the screen is drawn: the program is waiting for keys
    i=0
    while ! tmux -L "$SOCK" capture-pane -p | grep -q . && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    tmux -L "$SOCK" kill-server
    # generous: it exits at the next getch(); 60 s only catches a spin
    i=0
    while [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    check "$what: exits when its terminal hangs up (SIGHUP ignored)" test -n "$pid" -a ! -d "/proc/$pid"
    n=$((n + 1))
done
check_eq "three screens hung up" 3 "$n"
finish
