#!/usr/bin/env bash
# Installs node_modules, including the native Kafka engine (librdkafka through
# @confluentinc/kafka-javascript), and caches the native build.
#
# The client's own install step downloads a prebuilt binary, or else librdkafka's bundled source
# dependencies (zlib, OpenSSL, zstd, curl) — hosts these machines may not reach. So:
#   1. Debian's development packages provide those libraries (installed when missing and root);
#   2. `npm ci --ignore-scripts` installs every package without running any install step;
#   3. the client is built from source, linked against the system libraries (CKJS_LINKING=dynamic),
#      with the headers of the Node that runs phi-gate (npm_config_nodedir) — without them node-gyp
#      would build against another Node's ABI and the module would not load;
#   4. before the build, librdkafka and the client are patched (deploy/local/librdkafka-*.patch and
#      deploy/local/kafka-javascript-*.patch, in name order):
#      - librdkafka-inflation.patch bounds its gzip and lz4 inflation by receive.message.max.bytes,
#        as librdkafka already bounds zstd (unpatched, a 1 MiB gzip batch is inflated whole, ~1 GiB:
#        one crafted input batch could end the process);
#      - librdkafka-flush.patch: a transaction's commit waits for its records' delivery without
#        racing the background thread for the delivery reports (it lost one commit in three by
#        10 ms; BENCHMARKS.md, session 15);
#      - kafka-javascript-consume.patch: a consume call's messages become JavaScript objects with
#        their values and keys as views of one buffer, not one allocation each (the client's
#        conversion took ~6 µs of the JavaScript thread per message, ~3 µs patched; session 18);
#      - kafka-javascript-produce.patch: `produceBatch` queues many records of one topic in one call
#        (one `produce` call per record took ~2.2 µs of the JavaScript thread, ~0.8 µs batched);
#   5. the built module and its librdkafka shared objects are kept in $PHIGATE_CACHE, keyed by the
#      client's version, the Node ABI and the patches, so a warm set-up copies them instead of
#      compiling (~2 min).
#
# It also builds native/aead (AES-256-GCM for JWE encryption and HMAC-SHA256 for the hash action; a
# few seconds against the same Node headers, nothing cached). Without it phi-gate falls back to
# node:crypto, correct but slower (src/crypto/native.ts).
#
# Runtime needs only the shared libraries (libssl3, libsasl2-2, libzstd1, liblz4-1, libcurl4, zlib1g).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/env.sh"
cd "$repo"

say() { printf 'deps: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

BUILD_PACKAGES=(build-essential python3 libssl-dev zlib1g-dev libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev)

system_packages() {
  local missing=()
  for p in "${BUILD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "the native Kafka engine needs: ${missing[*]} — run: sudo apt-get install ${missing[*]}"
  fi
  say "installing ${missing[*]} (Debian packages the native Kafka engine builds against)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

node_prefix=$(dirname "$(dirname "$(command -v node)")")
[ -f "$node_prefix/include/node/node.h" ] ||
  die "no Node headers under $node_prefix/include/node (the native engine is built against them); use the Node that deploy/local/node.sh provides"

pkg=node_modules/@confluentinc/kafka-javascript
native_version() { node -p "require('./package-lock.json').packages['$pkg'].version"; }

system_packages
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

version=$(native_version)
abi=$(node -p 'process.versions.modules')
patches=("$here"/librdkafka-*.patch)
client_patches=("$here"/kafka-javascript-*.patch)
patch_id=$(cat "${patches[@]}" "${client_patches[@]}" | sha256sum | cut -c1-12)
cache="$PHIGATE_CACHE/kafka-javascript-$version-node$abi-$(uname -m)-$patch_id"
if [ -f "$cache/.complete" ]; then
  say "native Kafka engine $version (Node ABI $abi) from the cache"
  mkdir -p "$pkg/build/Release" "$pkg/build/deps"
  cp -a "$cache/Release/." "$pkg/build/Release/"
  cp -a "$cache/deps/." "$pkg/build/deps/"
else
  say "building the native Kafka engine $version from source for Node ABI $abi (about 2 minutes)"
  started=$SECONDS
  for p in "${patches[@]}"; do
    patch -d "$pkg/deps/librdkafka" -p1 --forward --quiet <"$p" ||
      die "$(basename "$p") does not apply to librdkafka of $pkg $version"
  done
  for p in "${client_patches[@]}"; do
    patch -d "$pkg" -p1 --forward --quiet <"$p" || die "$(basename "$p") does not apply to $pkg $version"
  done
  CKJS_LINKING=dynamic npm_config_build_from_source=true npm_config_nodedir="$node_prefix" \
    npm rebuild --foreground-scripts @confluentinc/kafka-javascript >"$repo/.native-build.log" 2>&1 ||
    { tail -40 "$repo/.native-build.log" >&2; die "native build failed (log: .native-build.log)"; }
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp/Release" "$cache.tmp/deps"
  cp -a "$pkg/build/Release/confluent-kafka-javascript.node" "$cache.tmp/Release/"
  cp -a "$pkg"/build/deps/librdkafka*.so* "$cache.tmp/deps/"
  touch "$cache.tmp/.complete"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
  say "built in $((SECONDS - started)) s; cached in $cache"
fi
node -e "require('@confluentinc/kafka-javascript')" ||
  die "the native Kafka engine does not load; remove $cache and run again"

say "building native/aead (AES-256-GCM for JWE values, HMAC-SHA256)"
npm_config_nodedir="$node_prefix" npm rebuild --foreground-scripts @phi-gate/aead >"$repo/.native-build.log" 2>&1 ||
  { tail -40 "$repo/.native-build.log" >&2; die "native/aead build failed (log: .native-build.log)"; }
node -e "require('@phi-gate/aead')" || die "native/aead does not load"
