#!/usr/bin/env bash
# install-deps.sh: the Debian packages the cluster and its tests use
# (FUSE tools, xattr tools, process tools). Installs only what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in fuse3 attr psmisc iproute2 procps util-linux; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}"
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -e /dev/fuse ] || modprobe fuse
if ! command -v go >/dev/null; then
	if [ -x /usr/local/go/bin/go ]; then
		echo "go is in /usr/local/go/bin: add it to PATH" >&2
	else
		echo "gluster-go needs Go (1.21 or later fetches the toolchain go.mod asks for): https://go.dev/doc/install" >&2
	fi
	exit 1
fi
