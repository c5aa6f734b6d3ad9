#!/usr/bin/env bash
# The local stack for tests and the demo: a single-node KRaft Apache Kafka broker and an Apicurio
# Registry (Confluent-compatible API under /apis/ccompat/v7), both from Maven Central, both run with
# the machine's Java 17 and bound to 127.0.0.1. No Docker.
#
#   stack.sh fetch     download the jars into the cache (idempotent)
#   stack.sh start [kafka|registry]   start what is not running yet (default both) and wait until it
#                      is ready (idempotent)
#   stack.sh resume [kafka]   start the broker again on the data it has (a restart after a crash;
#                      `start` formats a fresh data dir)
#   stack.sh stop [kafka|registry]   stop what this script started (by pid), nothing else
#   stack.sh running   print the names of the services this script started that are alive
#   stack.sh status    print what runs, one line each; exit 1 if something is down
#   stack.sh reset     stop, then wipe the broker's and the registry's data
#   stack.sh env       print the export lines for KAFKA_BROKERS and SCHEMA_REGISTRY_URL, and for the
#                      secured listener (below)
#
# The broker has two client listeners: PLAINTEXT on $KAFKA_PORT (9092), which the tests and the demo
# use, and SASL_SSL on $KAFKA_SASL_SSL_PORT (9094; TLS + SCRAM-SHA-512), for the tests of phi-gate's
# TLS and SASL settings. Its material is throwaway, made when the data dir is formatted (every
# `start`) under $STACK_DIR/tls: a CA (its key deleted once it signed), a broker certificate for
# IP 127.0.0.1 and DNS localhost in a PKCS12 keystore, and one SCRAM user with a random password.
# `stack.sh env` exports, for the tests and for clients by hand:
#   KAFKA_SASL_SSL_BROKERS        host:port of the SASL_SSL listener
#   KAFKA_SASL_SSL_CA_FILE        the CA certificate (PEM) that signed the broker's certificate
#   KAFKA_SASL_SSL_USERNAME       the SCRAM-SHA-512 user (phigate)
#   KAFKA_SASL_SSL_PASSWORD_FILE  a file holding its password (mode 0600)
# (These are the stack's, not phi-gate settings: give phi-gate KAFKA_BROKERS, KAFKA_SSL=true,
# KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM=scram-sha-512, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE.)
# KAFKA_ADVERTISED_PORT (default: $KAFKA_PORT) is the port the PLAINTEXT listener tells clients to
# use: a fault test puts a proxy there (test/helpers/kafka-proxy.ts).
# The controller and inter-broker listeners stay PLAINTEXT. Every port and path comes from env.sh
# or $STACK_DIR, so a second broker can run beside the first with other ports and another STACK_DIR.
#
# With KAFKA_BROKERS and SCHEMA_REGISTRY_URL both set, start/stop do nothing: those are used instead.
# State (data, logs, pid files) lives in $STACK_DIR (default: <repo>/.stack); logs in $STACK_DIR/logs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/env.sh"
: "${STACK_DIR:=$repo/.stack}"
: "${KAFKA_HEAP:=-Xms256m -Xmx768m}"
: "${REGISTRY_HEAP:=-Xms128m -Xmx384m}"
: "${READY_TIMEOUT_S:=120}"

kafka_home="$PHIGATE_CACHE/kafka-$KAFKA_VERSION"
registry_home="$PHIGATE_CACHE/apicurio-registry-$APICURIO_VERSION"
logs="$STACK_DIR/logs"
tls="$STACK_DIR/tls"
scram_user=phigate
registry_url="http://$STACK_HOST:$REGISTRY_PORT/apis/ccompat/v7"

say() { printf 'stack: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# An existing cluster is in use when both variables are set to something other than this stack's own
# addresses (with-stack.sh exports exactly those, and must still be able to stop what it started).
external() {
  [ -n "${KAFKA_BROKERS:-}" ] && [ -n "${SCHEMA_REGISTRY_URL:-}" ] &&
    { [ "$KAFKA_BROKERS" != "$STACK_HOST:$KAFKA_PORT" ] || [ "$SCHEMA_REGISTRY_URL" != "$registry_url" ]; }
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pid_alive() { # $1 = name; true when its pid file names a live process
  local f="$STACK_DIR/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

fetch() {
  command -v java >/dev/null || die "java not found: install a Java 17 JRE (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
  if [ ! -f "$kafka_home/.complete" ]; then
    say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $kafka_home"
    rm -rf "$kafka_home"
    mvn -q -B -f "$here/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$kafka_home/libs" >&2
    touch "$kafka_home/.complete"
  fi
  if [ ! -f "$registry_home/.complete" ]; then
    say "fetching Apicurio Registry $APICURIO_VERSION from Maven Central into $registry_home"
    rm -rf "$registry_home" && mkdir -p "$registry_home"
    mvn -q -B -f "$here/pom.xml" dependency:copy \
      -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
      -DoutputDirectory="$registry_home" >&2
    tar xzf "$registry_home"/apicurio-registry-app-*.tar.gz -C "$registry_home"
    rm -f "$registry_home"/apicurio-registry-app-*.tar.gz
    touch "$registry_home/.complete"
  fi
}

wait_until() { # $1 = what, $2 = pid name (may be empty), rest = probe command
  local what=$1 name=$2 deadline=$((SECONDS + READY_TIMEOUT_S))
  shift 2
  until "$@"; do
    if [ -n "$name" ] && ! pid_alive "$name"; then
      die "$what exited during start-up; see $logs/$name.log (last lines below)
$(tail -n 20 "$logs/$name.log" 2>/dev/null)"
    fi
    [ $SECONDS -lt $deadline ] || die "$what not ready after ${READY_TIMEOUT_S}s; see $logs/$name.log"
    sleep 0.5
  done
}

kafka_ready() {
  port_open "$STACK_HOST" "$KAFKA_PORT" &&
    grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" "$logs/kafka.log" 2>/dev/null
}

registry_ready() { curl -fs -o /dev/null --max-time 2 "$registry_url/subjects"; }

# The SASL_SSL listener's throwaway TLS material and SCRAM password, under $tls. Made afresh with a
# fresh data dir; kept while the data dir is (the SCRAM credential lives in the KRaft metadata).
# openssl, not keytool: a few tens of milliseconds instead of a JVM start per step.
tls_material() { # $1 = the broker's data dir
  if [ -f "$1/meta.properties" ] && [ -f "$tls/broker.p12" ] && [ -f "$tls/scram.password" ]; then return; fi
  command -v openssl >/dev/null || die "openssl not found: the SASL_SSL listener needs it (apt-get install openssl)"
  rm -rf "$tls" && mkdir -p "$tls" && chmod 700 "$tls"
  local san="IP:127.0.0.1,DNS:localhost" ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  case $STACK_HOST in 127.0.0.1|localhost) ;; *[!0-9.]*) san="$san,DNS:$STACK_HOST" ;; *) san="$san,IP:$STACK_HOST" ;; esac
  # one && chain: `set -e` does not apply inside a command list followed by ||
  (
    cd "$tls" && umask 077 &&
      openssl rand -hex 16 >keystore.password && openssl rand -hex 16 >scram.password &&
      openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 30 -subj "/CN=phi-gate local stack throwaway CA" &&
      openssl req "${ec[@]}" -keyout broker.key -out broker.csr -subj "/CN=localhost" &&
      printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$san" >broker.ext &&
      openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -days 30 -extfile broker.ext -out broker.pem &&
      openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
        -passout "file:keystore.password" -out broker.p12 &&
      rm -f ca.key broker.key broker.csr broker.ext && chmod 644 ca.pem
  ) >"$logs/kafka-tls.log" 2>&1 || die "generating the SASL_SSL listener's certificates failed; see $logs/kafka-tls.log"
}

start_kafka() {
  if pid_alive kafka; then say "kafka already running (pid $(cat "$STACK_DIR/kafka.pid")), reusing it"; return; fi
  if port_open "$STACK_HOST" "$KAFKA_PORT"; then
    say "port $KAFKA_PORT is taken by a process this script did not start; using it as the broker"
    return
  fi
  if [ "$KAFKA_SASL_SSL_PORT" = "$KAFKA_PORT" ] || [ "$KAFKA_SASL_SSL_PORT" = "$KAFKA_CONTROLLER_PORT" ]; then
    die "KAFKA_SASL_SSL_PORT ($KAFKA_SASL_SSL_PORT) must differ from KAFKA_PORT and KAFKA_CONTROLLER_PORT"
  fi
  if port_open "$STACK_HOST" "$KAFKA_SASL_SSL_PORT"; then
    die "port $KAFKA_SASL_SSL_PORT (the SASL_SSL listener) is taken: set KAFKA_SASL_SSL_PORT to a free port"
  fi
  local data="$STACK_DIR/kafka-data" conf="$STACK_DIR/server.properties" cp="$kafka_home/libs/*"
  # resume: a broker restarted after a crash (kill -9) keeps its formatted data dir, as a real one would
  local keep=0
  if [ "${KAFKA_RESUME:-0}" = 1 ] && [ -f "$data/meta.properties" ]; then keep=1; say "kafka: resuming on the data in $data"; fi
  [ $keep = 1 ] || rm -rf "$data"
  mkdir -p "$data" "$logs"
  tls_material "$data"
  sed -e "s#LISTEN_HOST#$STACK_HOST#g" -e "s#CONTROLLER_PORT#$KAFKA_CONTROLLER_PORT#g" \
    -e "s#SASL_SSL_PORT#$KAFKA_SASL_SSL_PORT#g" -e "s#TLS_DIR#$tls#g" \
    -e "s#KEYSTORE_PASSWORD#$(cat "$tls/keystore.password")#g" \
    -e "s#ADVERTISED_PORT#${KAFKA_ADVERTISED_PORT:-$KAFKA_PORT}#g" \
    -e "s#KAFKA_PORT#$KAFKA_PORT#g" -e "s#DATA_DIR#$data#g" "$here/server.properties" >"$conf"
  local cluster_id
  if [ $keep = 0 ]; then
    cluster_id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)
    java -cp "$cp" -Dlog4j2.configurationFile="$here/log4j2.properties" -Dkafka.logs.dir="$logs" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" \
      --add-scram "SCRAM-SHA-512=[name=$scram_user,password=$(cat "$tls/scram.password")]" >"$logs/kafka-format.log" 2>&1 ||
      die "formatting the KRaft log dir failed; see $logs/kafka-format.log"
  fi
  : >"$logs/kafka.log"
  # setsid: the broker must outlive this script and not receive the caller's terminal signals.
  # shellcheck disable=SC2086
  setsid java $KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -Dkafka.logs.dir="$logs" \
    -cp "$cp" kafka.Kafka "$conf" >"$logs/kafka.out" 2>&1 </dev/null &
  echo $! >"$STACK_DIR/kafka.pid"
  say "kafka starting (pid $!) on $STACK_HOST:$KAFKA_PORT (SASL_SSL on $STACK_HOST:$KAFKA_SASL_SSL_PORT)"
}

start_registry() {
  if pid_alive registry; then say "registry already running (pid $(cat "$STACK_DIR/registry.pid")), reusing it"; return; fi
  if port_open "$STACK_HOST" "$REGISTRY_PORT"; then
    say "port $REGISTRY_PORT is taken by a process this script did not start; using it as the registry"
    return
  fi
  mkdir -p "$logs" "$STACK_DIR/registry-data"
  # H2 in a file under $STACK_DIR, so that a registry restart (tests do one) keeps its schemas, as a
  # production registry would; `stack.sh reset` wipes it together with the broker's data.
  # shellcheck disable=SC2086
  (cd "$registry_home" && setsid java $REGISTRY_HEAP -XX:+UseSerialGC \
    -Dquarkus.http.host="$STACK_HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.url="jdbc:h2:file:$STACK_DIR/registry-data/registry;DB_CLOSE_ON_EXIT=FALSE" \
    -Dquarkus.log.level=WARN -Dquarkus.log.category.\"io.quarkus\".level=INFO \
    -jar apicurio-registry-app-*-runner.jar >"$logs/registry.log" 2>&1 </dev/null) >/dev/null 2>&1 </dev/null &
  sleep 0.2
  # the subshell's child is the java process; record the java pid, not the subshell's. The subshell
  # lives as long as java: it holds none of this script's output open, or a caller reading it (a
  # test's execFile, `stack.sh start | tail`) would wait for the registry to exit
  local pid
  pid=$(pgrep -n -f "quarkus.http.port=$REGISTRY_PORT" || true)
  [ -n "$pid" ] || die "registry did not start; see $logs/registry.log"
  echo "$pid" >"$STACK_DIR/registry.pid"
  say "registry starting (pid $pid) on $registry_url"
}

start() { # [names...]: default both
  if external; then say "using KAFKA_BROKERS=$KAFKA_BROKERS and SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL; not starting anything"; return; fi
  local names=" ${*:-kafka registry} "
  mkdir -p "$STACK_DIR" "$logs"
  fetch
  local t0=$SECONDS
  case $names in *" kafka "*) start_kafka ;; esac
  case $names in *" registry "*) start_registry ;; esac
  case $names in *" kafka "*)
    if pid_alive kafka; then wait_until "kafka" kafka kafka_ready; else wait_until "kafka" "" port_open "$STACK_HOST" "$KAFKA_PORT"; fi ;;
  esac
  case $names in *" registry "*)
    if pid_alive registry; then wait_until "registry" registry registry_ready; else wait_until "registry" "" registry_ready; fi ;;
  esac
  say "ready in $((SECONDS - t0))s:$names(KAFKA_BROKERS=$STACK_HOST:$KAFKA_PORT SCHEMA_REGISTRY_URL=$registry_url, logs: $logs)"
}

stop_one() { # $1 = name
  local f="$STACK_DIR/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then say "$1 (pid $pid) ignored SIGTERM for 30s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    say "$1 stopped (pid $pid)"
  fi
  rm -f "$f"
}

stop() { # [names...]: default both. Only processes with a pid file of ours are touched.
  # registry first: nothing depends on it; the broker last
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(registry kafka)
  for n in "${names[@]}"; do stop_one "$n"; done
}

running() { # prints the names of the services this script started that are alive
  for n in kafka registry; do pid_alive "$n" && echo "$n"; done
  return 0
}

env_lines() { # values already in the environment win (an existing cluster, another stack)
  echo "export KAFKA_BROKERS=${KAFKA_BROKERS:-$STACK_HOST:$KAFKA_PORT}"
  echo "export SCHEMA_REGISTRY_URL=${SCHEMA_REGISTRY_URL:-$registry_url}"
  printf 'export KAFKA_SASL_SSL_BROKERS=%q\n' "${KAFKA_SASL_SSL_BROKERS:-$STACK_HOST:$KAFKA_SASL_SSL_PORT}"
  printf 'export KAFKA_SASL_SSL_CA_FILE=%q\n' "${KAFKA_SASL_SSL_CA_FILE:-$tls/ca.pem}"
  printf 'export KAFKA_SASL_SSL_USERNAME=%q\n' "${KAFKA_SASL_SSL_USERNAME:-$scram_user}"
  printf 'export KAFKA_SASL_SSL_PASSWORD_FILE=%q\n' "${KAFKA_SASL_SSL_PASSWORD_FILE:-$tls/scram.password}"
}

status() {
  local rc=0
  if pid_alive kafka; then
    local secured="SASL_SSL $STACK_HOST:$KAFKA_SASL_SSL_PORT"
    port_open "$STACK_HOST" "$KAFKA_SASL_SSL_PORT" || secured="no SASL_SSL listener on $KAFKA_SASL_SSL_PORT (started before it existed? stack.sh stop kafka && stack.sh start)"
    echo "kafka: running (pid $(cat "$STACK_DIR/kafka.pid")) $STACK_HOST:$KAFKA_PORT, $secured"
  elif port_open "$STACK_HOST" "$KAFKA_PORT"; then echo "kafka: port $KAFKA_PORT open (not started by this script)"
  else echo "kafka: down"; rc=1; fi
  if pid_alive registry; then echo "registry: running (pid $(cat "$STACK_DIR/registry.pid")) $registry_url"
  elif registry_ready; then echo "registry: $registry_url answers (not started by this script)"
  else echo "registry: down"; rc=1; fi
  return $rc
}

case "${1:-}" in
  fetch) fetch ;;
  start) shift; start "$@" ;;
  resume) shift; KAFKA_RESUME=1 start "${@:-kafka}" ;;
  stop) shift; stop "$@" ;;
  running) running ;;
  reset) stop; rm -rf "$STACK_DIR/kafka-data" "$STACK_DIR/registry-data"; say "data wiped" ;;
  status) status ;;
  env) env_lines ;;
  *) echo "usage: $0 fetch|start|resume|stop [name]|status|running|reset|env" >&2; exit 2 ;;
esac
