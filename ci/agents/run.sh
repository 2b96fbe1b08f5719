#!/usr/bin/env bash
# Serves stories260K with one allowed CORS origin and runs the agent-client
# tests (the openai client's structured output and tool support, the Vercel
# AI SDK) against it (see ci/node-against-serve.sh). Run "npm ci" in this
# directory first. The tests that need constrained decoding skip on a server
# without it unless SIEVE_REQUIRE_CONSTRAINED=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SIEVE_ORIGIN=http://sieve-ci.example
exec bash "$here/../node-against-serve.sh" "$here" --allowed-origins "[\"$SIEVE_ORIGIN\"]"
