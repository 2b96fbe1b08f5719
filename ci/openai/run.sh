#!/usr/bin/env bash
# Serves stories260K and runs the openai client tests against it (see
# ci/node-against-serve.sh). Run "npm ci" in this directory first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
models=${SIEVE_TEST_MODELS:-$here/../../../shared/models}
export SIEVE_REFERENCE=$models/../reference/stories260K-greedy-once-upon-a-time.txt
exec bash "$here/../node-against-serve.sh" "$here"
