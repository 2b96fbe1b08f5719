#!/usr/bin/env bash
# Runs three "sieve serve" replicas behind nginx on loopback under load,
# kills one, restarts it and drains another (ci/replicas/replicas_test.go).
# Installs Debian's nginx when it is missing. All traffic stays on
# 127.0.0.1, and the run takes about 20 seconds plus the build.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	echo "installing nginx (Debian package)"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the package from starting its own nginx service on port 80: the
	# test starts the one it needs.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi

SIEVE_REPLICAS=1 go test ./ci/replicas -run TestReplicasBehindNginx -count=1 -v -timeout 3m
