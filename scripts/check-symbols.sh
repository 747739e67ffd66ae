#!/bin/sh
# Checks the global symbols of the objects built from src/:
#  - none is defined in more than one object file (with static archives,
#    which copy gets linked would depend on archive order);
#  - each carries a prefix that says where it lives: its file's name
#    (tun_gso.c: tun_gso_*), the file name's first word (tun_gso.c:
#    tun_*), or its directory's (src/wg/: wg_*); `main` aside.
#   scripts/check-symbols.sh OBJ...
# The prefix rule applies to objects under a .../src/ directory.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 OBJ..." >&2; exit 2; }

nm -A --defined-only -g "$@" 2>/dev/null | awk '
	# file.o: ADDRESS TYPE NAME (weak symbols, V/W, may repeat)
	$(NF-1) ~ /^[A-TX-Z]$/ && $(NF-1) != "U" {
		obj = $1; sub(/:.*/, "", obj); sym = $NF
		if (sym in seen && seen[sym] != obj) {
			printf "%s: defined in %s and %s\n", sym, seen[sym], obj
			bad = 1
		}
		seen[sym] = obj
		if (obj !~ /(^|\/)src\//)
			next
		path = obj; sub(/^(.*\/)?src\//, "", path); sub(/\.o$/, "", path)
		np = split(path, parts, "/")
		base = parts[np]; dir = np > 1 ? parts[np - 1] : ""
		first = base; sub(/_.*/, "", first)
		if (sym == "main" || sym == base || index(sym, base "_") == 1 ||
		    index(sym, first "_") == 1 ||
		    (dir != "" && index(sym, dir "_") == 1))
			next
		printf "%s: exported from src/%s.c without its prefix (%s_, %s_ or %s_)\n",
		       sym, path, base, first, dir
		bad = 1
	}
	END { exit bad }'
