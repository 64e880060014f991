#!/usr/bin/env bash
# fuzz.sh DURATION: runs every Fuzz target in the module for DURATION each.
# go test -fuzz takes one target of one package at a time, hence the loop.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
n=0
while IFS=: read -r file _; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
		echo "fuzz $pkg $target ($dur)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$dur" "$pkg"
		n=$((n + 1))
	done
done < <(grep -rl --include='*_test.go' -E '^func Fuzz' . | sort | sed 's/$/:/')
echo "fuzz: $n targets, none failed"
