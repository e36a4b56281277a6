#!/bin/sh
#
# bench/run.sh - `make bench`: set up the peers, then run bench/bench.py.
#
# The peers are taken from Debian packages without installing or starting
# any service: Postfix's smtp-sink and smtp-source are unpacked from the
# postfix .deb (apt-get download + dpkg -x) into bench/.peers/postfix, and
# run from there with LD_LIBRARY_PATH pointing at the libpostfix-*.so of
# the same package.  aiosmtpd comes from python3-aiosmtpd (installed with
# apt-get when we are root and it is missing).  A peer that cannot be set
# up is reported and left out; the rest still runs.
#
# Environment (all optional):
#   MAILSINK=PATH      binary to measure (default ./src/mailsink, relative
#                      to the directory make runs in)
#   BENCH_QUICK=1      fewer messages (s1, s20 / 40; the rest / 10), the
#                      whole run in about two minutes
#   BENCH_MSGS=N       messages for s1, s20, s20d and tls (default 20000)
#   BENCH_SCENARIOS=   comma list: s1,s20,s20d,big,tls,mem,store
#   BENCH_SERVERS=     comma list: mailsink,smtp-sink,smtp-sink-d,aiosmtpd
#   BENCH_REPS=3       repetitions of each throughput scenario
#   BENCH_WRITE=0|1    write BENCHMARKS.md (default: only for a full run)
#   BENCH_OUT=DIR      raw results (default bench/out)
#   BENCH_TMP=DIR      where the scratch stores and dumps go (default $TMPDIR)
#   BENCH_KEEP=1       keep the scratch directory
#
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
peers="$srcdir/bench/.peers"
mkdir -p "$peers"

say() { printf 'bench: %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" = 0 ]; }

# Postfix's smtp-sink and smtp-source, unpacked from the .deb.
setup_postfix() {
	pfx="$peers/postfix"
	sbin="$pfx/usr/sbin"
	if [ ! -x "$sbin/smtp-sink" ] || [ ! -x "$sbin/smtp-source" ]; then
		tmp=$(mktemp -d) || return 1
		chmod 755 "$tmp"	# apt's _apt user downloads into it
		say "downloading the postfix package (apt-get download postfix)"
		if ! (cd "$tmp" && timeout 180 apt-get download -q postfix \
		    >"$tmp/log" 2>&1); then
			if is_root; then
				say "apt-get download failed; running apt-get update"
				timeout 300 apt-get update -q >"$tmp/log" 2>&1
				(cd "$tmp" && timeout 180 apt-get download -q \
				    postfix >>"$tmp/log" 2>&1)
			fi
		fi
		deb=
		for f in "$tmp"/postfix_*.deb; do
			[ -f "$f" ] && deb=$f
		done
		if [ -z "$deb" ]; then
			say "cannot download postfix:"; cat "$tmp/log" >&2
			rm -rf "$tmp"; return 1
		fi
		rm -rf "$pfx.new"
		if ! dpkg -x "$deb" "$pfx.new"; then
			say "dpkg -x $deb failed"; rm -rf "$tmp" "$pfx.new"
			return 1
		fi
		dpkg-deb -f "$deb" Version >"$pfx.new/VERSION"
		dpkg-deb -f "$deb" Depends >"$pfx.new/DEPENDS"
		rm -rf "$pfx" && mv "$pfx.new" "$pfx"
		rm -rf "$tmp"
	fi
	# The libraries the package's own dependencies bring (libdb, libicu,
	# libnsl, libsasl2...): install the missing ones when we can.
	missing=$(LD_LIBRARY_PATH="$pfx/usr/lib/postfix" ldd \
	    "$sbin/smtp-sink" "$sbin/smtp-source" \
	    "$pfx"/usr/lib/postfix/*.so 2>/dev/null | grep -c 'not found')
	if [ "$missing" != 0 ]; then
		libs=$(tr ',' '\n' <"$pfx/DEPENDS" | sed 's/^ *//; s/ .*//' |
		    grep '^lib' | tr '\n' ' ')
		if is_root; then
			say "installing postfix's libraries: $libs"
			# shellcheck disable=SC2086 # one word per package
			timeout 300 apt-get install -y -q --no-install-recommends \
			    $libs >"$peers/apt.log" 2>&1 ||
			    say "apt-get install failed (see $peers/apt.log)"
		else
			say "missing libraries for smtp-sink; need: $libs"
			return 1
		fi
	fi
	# A usage error ("fatal: usage:") proves that the binary loads.
	if ! LD_LIBRARY_PATH="$pfx/usr/lib/postfix" "$sbin/smtp-sink" 2>&1 |
	    grep -q usage; then
		say "smtp-sink does not run:"
		LD_LIBRARY_PATH="$pfx/usr/lib/postfix" "$sbin/smtp-sink" 2>&1 |
		    head -n 5 >&2
		return 1
	fi
	return 0
}

# aiosmtpd from Debian, run by Debian's python.
setup_aiosmtpd() {
	py=/usr/bin/python3
	[ -x "$py" ] || { say "no /usr/bin/python3"; return 1; }
	"$py" -c 'import aiosmtpd' 2>/dev/null && return 0
	if is_root; then
		say "installing python3-aiosmtpd"
		timeout 300 apt-get install -y -q --no-install-recommends \
		    python3-aiosmtpd >"$peers/apt-aiosmtpd.log" 2>&1 ||
		{ timeout 300 apt-get update -q >/dev/null 2>&1 &&
		    timeout 300 apt-get install -y -q --no-install-recommends \
		    python3-aiosmtpd >"$peers/apt-aiosmtpd.log" 2>&1; }
	fi
	"$py" -c 'import aiosmtpd' 2>/dev/null && return 0
	say "aiosmtpd unavailable (python3-aiosmtpd not installed)"
	return 1
}

postfix_ok=0
aiosmtpd_ok=0
setup_postfix && postfix_ok=1
setup_aiosmtpd && aiosmtpd_ok=1

# 10,000 idle connections need more descriptors than the usual 1024, in
# the server and in the client alike; children inherit the limit.
# shellcheck disable=SC3045 # dash and bash both have ulimit -n and -H
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then
	hard=65536
fi
# shellcheck disable=SC3045
ulimit -n "$hard" 2>/dev/null || say "cannot raise ulimit -n to $hard"

# The orchestrator needs Python 3 with the sqlite3 module; Debian's python
# also has the same SQLite (and FTS5) as the system library mailsink uses.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

exec "$py" "$srcdir/bench/bench.py" \
    --srcdir "$srcdir" \
    --postfix "$( [ $postfix_ok = 1 ] && echo "$peers/postfix" )" \
    --aiosmtpd "$( [ $aiosmtpd_ok = 1 ] && echo /usr/bin/python3 )" \
    "$@"
