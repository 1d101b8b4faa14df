# shellcheck shell=sh disable=SC2034 # sourced: its variables are for the tests
# Helpers for the tests that drive a program in tmux (sourced after
# tests/lib.sh; not a test itself, so not executable).
#
#   tm_setup NAME [SESSION]  a private tmux server for this run: socket
#                            kmem-NAME-PID (unique per run), session name S
#                            (default NAME), K the kmemtop under test;
#                            sanitizer reports of the programs (in tmux
#                            they would only reach the pane) go to files in
#                            $T/san (T: the test's temporary directory); no
#                            tmux or no kmemtop: a failure and the end
#   tm_no_sanitizer_report   the assertion that $T/san stayed empty
#   tm_cleanup               kill that server and remove its socket (call it
#                            from the test's EXIT trap)
#   tm_keep                  a session that outlives every program the test
#                            starts: the server stays up between them (a new
#                            session racing a server that is shutting down fails)
#   tm ARGS...               tmux on that server
#   start W H CMD...         CMD in a fresh W x H session S, waited for
#                            ("help"); the first start makes the keep session
#   screen                   the text of session S's pane
#   settle                   until two captures in a row are the same
#   wait_for REGEX [POLLS]   until a settled screen matches
#   keys KEY...              send, then let the screen settle
#   has REGEX / lacks REGEX  the screen does / does not match
#   cell HEADING NAME [W]    the cell under HEADING in the row named NAME
#
# Polls are 0.1 s apart and counted, never asserted as a time: TM_POLLS
# (default 300) is how many a wait may take before it gives up; a loaded
# machine may take a while to answer.

: "${TM_POLLS:=300}"

tm_setup() {
    SOCK="kmem-$1-$$"
    S=${2:-$1}
    K="$B/kmemtop"
    command -v tmux >/dev/null || {
        not_ok "tmux is installed (scripts/deps.sh)"
        finish
    }
    [ -x "$K" ] || {
        not_ok "kmemtop is built at $K"
        finish
    }
    mkdir -p "$T/san" && chmod 1777 "$T/san"
    export ASAN_OPTIONS="log_path=$T/san/asan" UBSAN_OPTIONS="log_path=$T/san/ubsan:print_stacktrace=1"
}
tm_no_sanitizer_report() {
    _r=$(ls "$T/san")
    check_eq "no sanitizer report from any kmemtop run here" "" "$_r"
    [ -z "$_r" ] || head -40 "$T"/san/* | sed 's/^/# /'
}
# kill-server can leave the socket file behind: remove it too.
tm_cleanup() {
    [ -n "${SOCK:-}" ] || return 0
    tmux -L "$SOCK" kill-server 2>/dev/null
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
}
tm() { tmux -L "$SOCK" "$@"; }
tm_keep() { tm new-session -d -s keep "sleep 100000"; }
screen() { tm capture-pane -p -t "$S"; }

# start W H CMD...: CMD in a fresh W x H terminal (session S)
start() {
    _w=$1 _h=$2
    shift 2
    tm has-session -t keep 2>/dev/null || tm_keep
    tm kill-session -t "$S" 2>/dev/null
    tm new-session -d -s "$S" -x "$_w" -y "$_h" "$*"
    wait_for 'help' || echo "# the program did not start: $(screen)"
}
# settle: until two captures in a row are the same (at most TM_POLLS polls)
settle() {
    _i=0 _prev=
    while [ "$_i" -lt "$TM_POLLS" ]; do
        _cur=$(screen)
        [ "$_cur" = "$_prev" ] && return 0
        _prev=$_cur
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}
# wait_for REGEX [POLLS]: until a settled screen matches: the match and two
# captures in a row that are the same, so that the screen is not read in
# mid-redraw.
wait_for() {
    _i=0 _prev=
    while [ "$_i" -lt "${2:-$TM_POLLS}" ]; do
        _cur=$(screen)
        [ "$_cur" = "$_prev" ] && printf '%s\n' "$_cur" | grep -q -- "$1" && return 0
        _prev=$_cur
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "# wait_for '$1': not on a settled screen after $_i polls"
    return 1
}
# keys KEY...: send, then let the screen settle (where the answer matters,
# wait_for its marker as well)
keys() {
    tm send-keys -t "$S" "$@"
    sleep 0.4
    settle
}
has() { screen | grep -q -- "$1"; }
lacks() { ! screen | grep -q -- "$1"; }
# cell HEADING NAME [WIDTH]: the cell (WIDTH columns, default 9) under HEADING
# in the row whose last field is NAME
cell() {
    screen | awk -v w="$1" -v n="$2" -v cw="${3:-9}" '
        e == 0 && index($0, w) && (/NAME/ || /KERNEL/) { e = index($0, w) + length(w) - 1; next }
        e && $NF == n { s = substr($0, e - cw + 1, cw); gsub(/ /, "", s); print s; exit }'
}
