#!/bin/sh
# One helper per safety rule: fails when a call that sets up one of the
# rules appears outside the file that owns it (a copy of the rule
# somewhere else would drift from it).   scripts/check-once.sh SRC_DIR
#
#   curl_easy_init, <curl/curl.h>   core/http_client.c (outbound HTTP)
#   SSL_get_error                    tls/conn.c (the SSL error mapping)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 SRC_DIR" >&2; exit 2; }
src=$1
bad=0
once() {	# PATTERN OWNER WHAT
	hits=$(grep -rlE --include='*.c' --include='*.h' "$1" "$src" |
		grep -v "^$src/$2\$" || true)
	for f in $hits; do
		echo "$f: $3 outside $2 ($1)"
		bad=1
	done
}
once 'curl_easy_init|curl/curl\.h' core/http_client.c "libcurl set up"
once 'SSL_get_error' tls/conn.c "SSL error mapping"
exit $bad
