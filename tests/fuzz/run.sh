#!/bin/sh
# tests/fuzz/run.sh - run one libFuzzer target (see tests/fuzz/README).
#
#   run.sh fuzz TARGET CORPUS SECONDS [LIBFUZZER-FLAGS...]
#	Fuzz for SECONDS on a copy of CORPUS (the source tree is never
#	written) with the target's dictionary, stopping at the first crash,
#	leak, sanitizer report, timeout (10 s per input) or RSS over 2 GB.
#	Writes TARGET.log and TARGET.trs (an automake test result, so the
#	CI counts each target as one test), and keeps a crash input under
#	tests/fuzz/artifacts/ in the build tree.
#   run.sh regress TARGET CORPUS
#	Run TARGET once over every file of CORPUS (crash-* regression
#	inputs included) and nothing else: a plain regression test.
#
# Exit status: 0 if the target found nothing, 1 otherwise.
set -u

mode=${1:?usage: run.sh fuzz|regress TARGET CORPUS [SECONDS]}
target=${2:?no target}
corpus=${3:?no corpus directory}
name=$(basename "$target")
here=$(cd "$(dirname "$0")" && pwd)

# UBSan stack traces; halt on the first report so libFuzzer sees it.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export UBSAN_OPTIONS

if [ ! -x "$target" ]; then
	echo "$name: $target not built (configure with --enable-fuzzing)" >&2
	exit 1
fi
if [ ! -d "$corpus" ]; then
	echo "$name: no corpus directory $corpus" >&2
	exit 1
fi

case $mode in
regress)
	set -- "$corpus"/*
	if [ ! -f "$1" ]; then
		echo "$name: $corpus is empty" >&2
		exit 1
	fi
	if "$target" "$@" >"$target.regress.log" 2>&1; then
		echo "PASS: $name (regression, $# inputs)"
		exit 0
	fi
	echo "FAIL: $name (regression): see $target.regress.log"
	grep -E 'Running:|ERROR|runtime error|property failed|SUMMARY' \
	    "$target.regress.log" | tail -n 20
	exit 1
	;;
fuzz)
	seconds=${4:?no time given}
	shift 4
	;;
*)
	echo "run.sh: unknown mode $mode" >&2
	exit 2
	;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/mailsink-$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir "$work/corpus"
cp "$corpus"/* "$work/corpus/" 2>/dev/null
artifacts=$(dirname "$target")/artifacts/$name
rm -rf "$artifacts"
mkdir -p "$artifacts"
dict=
if [ -f "$here/$name.dict" ]; then
	dict=-dict=$here/$name.dict
fi

out=$target.out
log=$target.log
trs=$target.trs
rm -f "$out" "$log" "$trs"
# shellcheck disable=SC2086  # $dict is one word or none
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" $dict "$@" \
    "$work/corpus" >"$out" 2>&1
rc=$?

{
	echo "$name: $seconds s on $(find "$corpus" -type f | wc -l) seed inputs" \
	    "(now $(find "$work/corpus" -type f | wc -l)), exit status $rc"
	grep -E '^stat::' "$out"
	if [ "$rc" -ne 0 ]; then
		# libFuzzer stops at the first finding: its report is last.
		echo
		echo "--- the end of the libFuzzer output ($out):"
		tail -n 80 "$out"
		for f in "$artifacts"/*; do
			[ -f "$f" ] || continue
			echo
			echo "--- input $f (first 512 bytes):"
			head -c 512 "$f" | od -A d -c
			echo "--- reproduce: $target $f"
			echo "--- minimise:  $target -minimize_crash=1" \
			    "-runs=100000 $f"
		done
	fi
} >"$log"

if [ "$rc" -eq 0 ]; then
	res=PASS
else
	res=FAIL
fi
{
	echo ":test-result: $res"
	echo ":global-test-result: $res"
	echo ":recheck: $( [ "$res" = PASS ] && echo no || echo yes)"
	echo ":copy-in-global-log: $( [ "$res" = PASS ] && echo no || echo yes)"
} >"$trs"
echo "$res: $name ($(grep -E '^stat::number_of_executed_units' "$out" |
    awk '{print $2}') runs in $seconds s)"
if [ "$res" = FAIL ]; then
	sed -n '/^--- the end/,$p' "$log" | tail -n 60
	exit 1
fi
exit 0
