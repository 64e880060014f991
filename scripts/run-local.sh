#!/usr/bin/env bash
# run-local.sh start|stop — a one-node pool with a mounted replica-2 volume,
# everything under $GLUSTER_GO_HOME (default ./.local-cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
home=${GLUSTER_GO_HOME:-$PWD/.local-cluster}
vol=${GLUSTER_GO_VOLUME:-gv0}
host=$(hostname)
mnt=$home/mnt/$vol
lib=$home/lib log=$home/log run=$home/run
gluster() { command gluster --mode=script "$@"; }

stop() {
	if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt" || umount -l "$mnt"; fi
	if gluster pool list >/dev/null 2>&1; then
		gluster volume stop "$vol" >/dev/null 2>&1 || true
	fi
	pkill -f "glusterd --workdir $lib" 2>/dev/null || true
	# Bricks belong to this pool only; stop any left behind.
	pkill -f "glusterfsd.*$home/" 2>/dev/null || true
	echo "local cluster stopped (state kept in $home; rm -rf it to start afresh)"
}

start() {
	mkdir -p "$lib" "$log" "$run" "$home/bricks" "$mnt"
	if ! gluster pool list >/dev/null 2>&1; then
		glusterd --workdir "$lib" --logdir "$log" --rundir "$run"
	fi
	if ! gluster volume info "$vol" >/dev/null 2>&1; then
		# Two replicas on one host (and bricks on the root file system) need
		# force, as in GlusterFS.
		gluster volume create "$vol" replica 2 "$host:$home/bricks/b1" "$host:$home/bricks/b2" force
	fi
	if ! gluster volume info "$vol" | grep -q '^Status: Started'; then
		gluster volume start "$vol"
	fi
	if ! mountpoint -q "$mnt"; then
		mount -t glusterfs "$host:/$vol" "$mnt"
	fi
	cat <<MSG

gluster-go is running: one node, volume $vol (replica 2), mounted.

  mount point   $mnt          (type: $(findmnt -no FSTYPE "$mnt"))
  glusterd      $host:24007    (state $lib, logs $log)
  bricks        $home/bricks/b1, $home/bricks/b2

Try:
  echo hello > $mnt/hello.txt && cat $mnt/hello.txt
  gluster volume info $vol
  gluster volume status $vol
  getfattr -d -m . -e hex $home/bricks/b1/hello.txt
Stop it with: make stop
MSG
	gluster volume status "$vol"
}

case ${1:-start} in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
