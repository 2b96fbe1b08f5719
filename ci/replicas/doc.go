// Package replicas holds an end-to-end test of several "sieve serve"
// replicas behind nginx on loopback: load through the balancer while one
// replica is killed, restarted, and another drained with SIGTERM. It runs
// only with SIEVE_REPLICAS=1 (ci/replicas/run.sh sets it and installs
// nginx), since it builds the binary and starts processes.
package replicas
