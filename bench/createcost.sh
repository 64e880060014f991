#!/usr/bin/env bash
# createcost.sh LAYOUT [KEY VALUE]...: what a small-file create costs on a
# gluster-go volume (LAYOUT single, replica (2) or distribute (3 bricks))
# with the given volume options: user+system CPU seconds of the client and
# brick processes per 1,000 files (bench/smallfile create, 4 threads, 4,000
# files of 4 KiB), and brick replies (writev system calls, one per RPC when
# calls do not overlap) per file, counted with strace over 500 creates by one
# thread. Run as root from the repository root; it holds the port 24007 lock.
set -euo pipefail
layout=${1:?usage: createcost.sh single|replica|distribute [KEY VALUE]...}
shift
W=$(mktemp -d /var/tmp/createcost.XXXXXX)
B=$W/bin
go build -o "$B/" ./cmd/... ./bench/smallfile
exec 9>/tmp/gluster-go-24007.lock
flock 9
A=127.0.0.2
G=("$B/gluster" --mode=script --remote-host=$A)
cleanup() {
	umount "$W/mnt" 2>/dev/null || umount -l "$W/mnt" 2>/dev/null || true
	for p in $(pgrep -f -- "$W/" || true); do kill "$p" 2>/dev/null || true; done
	sleep 1
	rm -rf "$W"
}
trap cleanup EXIT
"$B/glusterd" --address=$A --workdir="$W/state" --logdir="$W/log" --rundir="$W/run" -p "$W/glusterd.pid" -L WARNING
case $layout in
single) bricks=("$A:$W/b1") ;;
replica) bricks=(replica 2 "$A:$W/b1" "$A:$W/b2") ;;
distribute) bricks=("$A:$W/b1" "$A:$W/b2" "$A:$W/b3") ;;
*) echo "unknown layout $layout" >&2; exit 2 ;;
esac
"${G[@]}" volume create cc "${bricks[@]}" force >/dev/null
while [ $# -ge 2 ]; do "${G[@]}" volume set cc "$1" "$2" >/dev/null; shift 2; done
"${G[@]}" volume start cc >/dev/null
mkdir -p "$W/mnt"
"$B/glusterfs" --volfile-server=$A --volfile-id=cc --log-file="$W/client.log" "$W/mnt"
client=$(pgrep -f -- "glusterfs.*$W/mnt" | head -1)
bricks=$(pgrep -f -- "glusterfsd.*$W/b" | tr '\n' ' ')
cpu() { # user+system seconds of the given pids
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}
hz=$(getconf CLK_TCK)
c0=$(cpu $client); b0=$(cpu $bricks)
"$B/smallfile" -phase create -dir "$W/mnt/cpu" -threads 4 -files 4000 >"$W/create.json"
c1=$(cpu $client); b1=$(cpu $bricks)
args=(); for p in $bricks; do args+=(-p "$p"); done
strace -f -c -e trace=writev -o "$W/strace.txt" "${args[@]}" &
st=$!
sleep 1
"$B/smallfile" -phase create -dir "$W/mnt/rpc" -threads 1 -files 500 >/dev/null
kill -INT $st; wait $st || true
writev=$(awk '$NF == "writev" {print $4}' "$W/strace.txt")
awk -v c=$((c1 - c0)) -v b=$((b1 - b0)) -v hz="$hz" -v w="${writev:-0}" -v r="$(cat "$W/create.json")" 'BEGIN {
	printf "%s\nCPU s per 1000 files: client %.3f, bricks %.3f, total %.3f\nbrick replies (writev) per file: %.2f\n",
		r, c / hz / 4, b / hz / 4, (c + b) / hz / 4, w / 500 }'
