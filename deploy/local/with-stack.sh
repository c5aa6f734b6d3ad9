#!/usr/bin/env bash
# Runs a command with the local stack up: starts what is not running, exports KAFKA_BROKERS and
# SCHEMA_REGISTRY_URL for the command, and afterwards stops only what it started itself — so
# `make test` twice in a row works, and a stack someone started by hand is left running.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stack="$here/stack.sh"

already=$("$stack" running | tr '\n' ' ')
cleanup() {
  local started=()
  for n in $("$stack" running); do
    case " $already " in *" $n "*) ;; *) started+=("$n") ;; esac
  done
  if [ ${#started[@]} -gt 0 ]; then "$stack" stop "${started[@]}"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$stack" start
eval "$("$stack" env)"
"$@"
