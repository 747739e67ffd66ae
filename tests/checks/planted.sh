#!/bin/sh
# The tree checks must fail on a planted violation (and pass without it):
# an include from a layer above, a safety rule's setup outside its one
# helper, a global symbol defined twice, and one without its file's or
# directory's prefix.
set -eu
cd "$(dirname "$0")/../.."
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "planted: $*" >&2; exit 1; }

mkdir -p "$t/src/core" "$t/src/hub"
cp src/LAYERS "$t/src/LAYERS"
printf '#include "core/a.h"\n' > "$t/src/hub/ok.c"
printf '/* a.h */\n' > "$t/src/core/a.h"
scripts/check-layers.sh "$t/src" >/dev/null || fail "a clean tree was refused"
printf '#include "hub/ok.h"\n' > "$t/src/core/bad.c"
if scripts/check-layers.sh "$t/src" >/dev/null; then
	fail "core including hub passed the layer check"
fi

mkdir -p "$t/src/core" "$t/src/agent"
printf '#include <curl/curl.h>\n' > "$t/src/core/http_client.c"
scripts/check-once.sh "$t/src" >/dev/null || fail "libcurl in http_client.c was refused"
printf 'void *c = curl_easy_init();\n' > "$t/src/agent/join.c"
if scripts/check-once.sh "$t/src" >/dev/null; then
	fail "curl_easy_init outside core/http_client.c passed the once check"
fi

printf 'int planted_dup(void);\nint planted_dup(void) { return 1; }\n' > "$t/a.c"
cp "$t/a.c" "$t/b.c"
${CC:-cc} -c "$t/a.c" -o "$t/a.o"
${CC:-cc} -c "$t/b.c" -o "$t/b.o"
scripts/check-symbols.sh "$t/a.o" >/dev/null || fail "one definition was refused"
if scripts/check-symbols.sh "$t/a.o" "$t/b.o" >/dev/null; then
	fail "a symbol defined twice passed the symbol check"
fi
mkdir -p "$t/obj/src/core"
printf 'int enc_planted(void);\nint enc_planted(void) { return 1; }\n' > "$t/enc.c"
printf 'int stray_planted(void);\nint stray_planted(void) { return 1; }\n' > "$t/stray.c"
${CC:-cc} -c "$t/enc.c" -o "$t/obj/src/core/enc.o"
${CC:-cc} -c "$t/stray.c" -o "$t/obj/src/core/num.o"
scripts/check-symbols.sh "$t/obj/src/core/enc.o" >/dev/null ||
	fail "a symbol with its file's prefix was refused"
if scripts/check-symbols.sh "$t/obj/src/core/num.o" >/dev/null; then
	fail "a symbol without its file's or directory's prefix passed the symbol check"
fi
echo "planted: every check catches its planted violation"
