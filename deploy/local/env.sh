# Shared settings of the local stack scripts; sourced, not run.
# Every value may be overridden from the environment.
: "${PHIGATE_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/phi-gate}"   # downloads, kept between runs
: "${NODE_VERSION:=22.23.3}"
: "${KAFKA_VERSION:=4.1.1}"
: "${APICURIO_VERSION:=3.0.9}"          # the last 3.x release built for Java 17 (3.3 needs Java 21)
: "${STACK_HOST:=127.0.0.1}"
: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${REGISTRY_PORT:=8081}"
# the SASL_SSL listener (TLS + SCRAM-SHA-512); by default two above KAFKA_PORT, so that a second
# broker started with another KAFKA_PORT does not collide with the first one's (9094 by default)
: "${KAFKA_SASL_SSL_PORT:=$((KAFKA_PORT + 2))}"
