#!/bin/sh
# A hung-up terminal ends kmemtop: its tmux (or ssh) goes away, getch()
# returns ERR at once, forever. Started with SIGHUP ignored (as under nohup or
# a shell that ignores it, which exec passes on), the live TUI, the replay TUI
# and the slabtop screen must still exit instead of spinning on the dead tty.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.lib.sh"
T=$(tmpdir)
PIDS=
cleanup() {
    tm_cleanup
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
tm_setup hangup kh
"$K" --root "$SHARED_FIXTURE" --record "$T/rec" --record.count 1 --record.time 1796000000 --quiet
ln -s "$K" "$T/slabtop"

n=0
for what in live replay slabtop; do
    case $what in
    live) cmd="'$K' --root '$SHARED_FIXTURE'" ;;
    replay) cmd="'$K' --replay '$T/rec'" ;;
    slabtop) cmd="'$T/slabtop' -d 1" ;;
    esac
    tm new-session -d -s "$S" -x 80 -y 24 "trap '' HUP; echo \$\$ >'$T/$what.pid'; exec $cmd"
    i=0
    while [ ! -s "$T/$what.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    pid=$(cat "$T/$what.pid" 2>/dev/null)
    PIDS="$PIDS $pid"
    # the screen is drawn: the program is waiting for keys
    wait_for .
    tm kill-server
    # generous: it exits at the next getch(); 60 s only catches a spin
    i=0
    while [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    check "$what: exits when its terminal hangs up (SIGHUP ignored)" test -n "$pid" -a ! -d "/proc/$pid"
    n=$((n + 1))
done
check_eq "three screens hung up" 3 "$n"
tm_no_sanitizer_report
finish
