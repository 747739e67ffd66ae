#!/bin/sh
# Fails when a global symbol is defined in more than one object file:
# with static archives, which copy gets linked would depend on archive
# order.   scripts/check-symbols.sh OBJ...
set -eu
[ $# -gt 0 ] || { echo "usage: $0 OBJ..." >&2; exit 2; }
nm -A --defined-only -g "$@" 2>/dev/null | awk '
	# file.o: ADDRESS TYPE NAME (weak symbols, V/W, may repeat)
	$(NF-1) ~ /^[A-TX-Z]$/ && $(NF-1) != "U" {
		obj = $1; sub(/:.*/, "", obj)
		if ($NF in seen && seen[$NF] != obj) {
			printf "%s: defined in %s and %s\n", $NF, seen[$NF], obj
			bad = 1
		}
		seen[$NF] = obj
	}
	END { exit bad }'
