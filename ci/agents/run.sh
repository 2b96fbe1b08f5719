#!/usr/bin/env bash
# Builds sieve, serves stories260K on a free port with one allowed CORS
# origin, and runs the agent-client tests (the openai client's structured
# output and tool support, the Vercel AI SDK) against it. Run "npm ci" in
# this directory first. The tests that need constrained decoding skip on a
# server without it unless SIEVE_REQUIRE_CONSTRAINED=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
models=${SIEVE_TEST_MODELS:-$root/../shared/models}
origin=http://sieve-ci.example
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/sieve" ./cmd/sieve)
"$work/sieve" serve -m "$models/stories260K.gguf" --host 127.0.0.1 --port 0 --threads 2 --kv-cache-size 64 \
	--allowed-origins "[\"$origin\"]" >"$work/log" 2>&1 &
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
SIEVE_URL="http://$addr" SIEVE_MODEL=stories260K SIEVE_ORIGIN="$origin" \
	node --test "$here/test.mjs" || status=$?

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
