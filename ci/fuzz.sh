#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one after the other, each for the
# duration given (default 15s). Targets are discovered, so new ones join
# without editing this script.
#
#   ci/fuzz.sh            # about 15 s per target (CI)
#   ci/fuzz.sh 10m        # the long run
#   FUZZ_PARALLEL=1 ci/fuzz.sh 5m   # one fuzzing worker per target
#
# A failing input is written under the package's testdata/fuzz/FuzzName/;
# commit it there and it becomes a regression test that `go test` replays.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-15s}
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi

# Packages whose tests define a fuzz target, then the targets of each.
targets=()
while read -r pkg dir; do
	grep -qs '^func Fuzz' "$dir"/*_test.go || continue
	for name in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		targets+=("$pkg $name")
	done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, $duration each"
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	printf '\n-- %s %s\n' "$pkg" "$name"
	log=$(mktemp)
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$duration" "${parallel[@]}" "$pkg" 2>&1 | tee "$log"; then
		rm -f "$log"
		continue
	fi
	# Go's fuzzing coordinator can report "context deadline exceeded" when
	# -fuzztime ends while a worker is busy; that is no failing input. A
	# real failure writes one ("Failing input written to ...").
	if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
		echo "fuzz: $name stopped at the deadline with no failing input; counted as a pass" >&2
		rm -f "$log"
		continue
	fi
	rm -f "$log"
	exit 1
done
