#!/usr/bin/env bash
# Builds sieve, serves stories260K on a free port (with any extra serve
# flags given), runs "node --test DIR/test.mjs" against it with SIEVE_URL and
# SIEVE_MODEL set (other SIEVE_* variables pass through), and checks that
# SIGTERM shuts the server down cleanly. Run "npm ci" in DIR first.
# Usage: ci/node-against-serve.sh DIR [SERVE FLAGS...]
set -euo pipefail
dir=$(cd "$1" && pwd)
shift
root=$(cd "$(dirname "$0")/.." && pwd)
models=${SIEVE_TEST_MODELS:-$root/../shared/models}
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/sieve" ./cmd/sieve)
"$work/sieve" serve -m "$models/stories260K.gguf" --host 127.0.0.1 --port 0 --threads 2 --kv-cache-size 64 "$@" >"$work/log" 2>&1 &
pid=$!

# The server logs its address before it loads the model.
addr=
for _ in $(seq 100); do
	addr=$(sed -n 's/.*msg=listening addr=\([0-9.:]*\).*/\1/p' "$work/log" | head -n1)
	[ -n "$addr" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$addr" ]; then
	echo "sieve serve did not start:" >&2
	cat "$work/log" >&2
	exit 1
fi

status=0
SIEVE_URL="http://$addr" SIEVE_MODEL=stories260K node --test "$dir/test.mjs" || status=$?

kill -TERM "$pid"
if ! wait "$pid"; then
	echo "sieve serve did not exit cleanly on SIGTERM" >&2
	status=1
fi
pid=
if [ "$status" -ne 0 ]; then
	echo "--- server log" >&2
	cat "$work/log" >&2
fi
exit "$status"
