#!/bin/sh
# check-core-purity.sh - the core (libmscore.a) must include libc and core
# headers only: no libevent, OpenSSL, SQLite, GMime or jansson (STYLE 2).
srcdir="${MAILSINK_SRCDIR:-$(dirname "$0")/..}"
core=$(sed -n '/^src_libmscore_a_SOURCES/,/^$/p' "$srcdir/Makefile.am" |
    tr ' \t\\' '\n\n\n' | grep -E '^src/.*\.[ch]$')
[ -n "$core" ] || { echo "FAIL: no core sources found in Makefile.am"; exit 1; }
bad=0
for f in $core; do
	if grep -nE '#[[:space:]]*include[[:space:]]*<(event2/|openssl/|sqlite3\.h|gmime/|jansson\.h)' \
	    "$srcdir/$f"; then
		echo "FAIL: $f includes a shell-only header"
		bad=1
	fi
done
n=$(echo "$core" | wc -l)
if [ $bad -eq 0 ]; then
	echo "ok: $n core files include no shell-only header"
fi
exit $bad
