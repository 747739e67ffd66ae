#!/bin/sh
# Fails when a file under src/ includes a header from a directory above
# its own layer (src/LAYERS holds the order, written once).
#   scripts/check-layers.sh [SRC_DIR]
set -eu
src=${1:-src}
awk -v src="$src" '
FNR == NR {
	if ($0 ~ /^#/ || NF == 0) next
	layer++
	for (i = 1; i <= NF; i++) rank[$i] = layer
	next
}
{
	file = FILENAME
	sub("^" src "/", "", file)
	dir = file; sub("/.*", "", dir)
	if (file !~ /\//) next		# main.c: the top
	if (!(dir in rank)) {
		printf "%s/%s: directory \"%s\" is missing from %s/LAYERS\n", src, file, dir, src
		bad = 1; nextfile
	}
	if ($0 ~ /^#include "[a-z_0-9]+\//) {
		inc = $0; sub(/^#include "/, "", inc); sub(/\/.*/, "", inc)
		if (!(inc in rank)) {
			if (system("test -d " src "/" inc) == 0) {
				printf "%s/%s:%d: directory \"%s\" is missing from LAYERS\n", src, file, FNR, inc
				bad = 1
			}
		} else if (rank[inc] > rank[dir]) {
			printf "%s/%s:%d: %s (layer %d) includes %s (layer %d): dependencies point down\n", \
				src, file, FNR, dir, rank[dir], inc, rank[inc]
			bad = 1
		}
	}
}
END { exit bad }
' "$src/LAYERS" $(find "$src" -name '*.[ch]' | sort)
