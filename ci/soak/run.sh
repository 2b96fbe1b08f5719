#!/usr/bin/env bash
# Builds sieve, serves stories260K on a free loopback port, soaks it with
# "sieve bench soak" for SOAK_DURATION (default 60s), and checks that the
# server drained clean and exits 0 on SIGTERM.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
models=${SIEVE_TEST_MODELS:-$root/../shared/models}
duration=${SOAK_DURATION:-60s}
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/sieve" ./cmd/sieve)
"$work/sieve" serve -m "$models/stories260K.gguf" --port 0 --threads 2 --kv-cache-size 16 --max-seqs 8 >"$work/log" 2>&1 &
pid=$!
addr=
for _ in $(seq 100); do
	addr=$(sed -n 's/.*msg=listening addr=\([0-9.:]*\).*/\1/p' "$work/log" | head -n1)
	[ -n "$addr" ] && break
	sleep 0.1
done
if [ -z "$addr" ]; then
	echo "sieve serve did not start:" >&2
	cat "$work/log" >&2
	exit 1
fi

status=0
"$work/sieve" bench soak --url "http://$addr" --duration "$duration" --concurrency 8 || status=$?
kill -TERM "$pid"
if ! wait "$pid"; then
	echo "sieve serve did not exit cleanly on SIGTERM" >&2
	status=1
fi
pid=
if [ "$status" -ne 0 ]; then
	echo "--- server log (last 50 lines)" >&2
	tail -n 50 "$work/log" >&2
fi
exit "$status"
