#!/usr/bin/env bash
# Control the MiniStack emulator used by the emulator tests and CI.
#   scripts/emulator.sh start    start on 127.0.0.1:$PORT unless something already answers there
#   scripts/emulator.sh stop     stop it, only if this script started it (pid file)
#   scripts/emulator.sh status   exit 0 when the emulator answers
#   scripts/emulator.sh acquire <holder>   start unless answering, and hold a lease (tests; holder = a pid)
#   scripts/emulator.sh release <holder>   drop the lease; the last holder stops an emulator leases started
# Test files running in parallel share one emulator through leases: none stops it under another, and one
# started by `start` (CI, a developer) is never stopped by a test.
# It keeps its state in memory: a restart starts from an empty account.
set -euo pipefail
# shellcheck source=lib/pidfile.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pidfile.sh"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${LOGLAKE_EMULATOR_PORT:-4566}"
run="$root/.ci/tmp"
pidfile="$run/ministack-$port.pid"
logfile="$run/ministack-$port.log"
leases="$run/ministack-$port.leases"
lockfile="$run/ministack-$port.lock"
health="http://127.0.0.1:$port/_ministack/health"

answers() { curl -fsS -m 2 "$health" >/dev/null 2>&1; }

case "${1:-}" in
  start)
    if answers; then
      echo "emulator: already answering on port $port (not started by this call)"
      exit 0
    fi
    "$root/scripts/venv.sh"
    mkdir -p "$run"
    # Bound to loopback only; Lambdas run as host processes and call back on the same port.
    GATEWAY_PORT="$port" BIND_HOST=127.0.0.1 MINISTACK_REGION="${AWS_REGION:-us-east-1}" \
      LAMBDA_EXECUTOR=local S3_DATA_DIR="$run/ministack-s3-$port" \
      nohup "$root/.venv/bin/ministack" >"$logfile" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 120); do
      if answers; then
        echo "emulator: MiniStack $(<"$pidfile") ready on 127.0.0.1:$port (log: ${logfile#"$root"/})"
        exit 0
      fi
      if ! kill -0 "$(<"$pidfile")" 2>/dev/null; then
        echo "emulator: MiniStack exited during start; last log lines:" >&2
        tail -n 30 "$logfile" >&2 || true
        rm -f "$pidfile"
        exit 1
      fi
      sleep 0.5
    done
    echo "emulator: MiniStack did not answer on port $port within 60 s" >&2
    exit 1
    ;;
  stop)
    stop_pidfile "$pidfile" MiniStack 5
    ;;
  status)
    answers
    ;;
  acquire | release)
    holder="${2:?usage: $0 $1 <holder pid>}"
    mkdir -p "$leases"
    exec 9>"$lockfile"
    flock 9
    if [[ "$1" == acquire ]]; then
      if ! answers; then
        "$0" start 9>&-
        touch "$leases/started-by-lease"
      fi
      touch "$leases/$holder"
    else
      rm -f "$leases/$holder"
      # A holder killed before it released leaves its lease behind; it holds nothing any more.
      for lease in "$leases"/*; do
        name="$(basename "$lease")"
        [[ "$name" =~ ^[0-9]+$ ]] && ! kill -0 "$name" 2>/dev/null && rm -f "$lease"
      done
      if [[ -f "$leases/started-by-lease" ]] && ! compgen -G "$leases/[0-9]*" >/dev/null; then
        "$0" stop 9>&-
        rm -f "$leases/started-by-lease"
      fi
    fi
    ;;
  *)
    echo "usage: $0 start|stop|status|acquire <holder>|release <holder>" >&2
    exit 2
    ;;
esac
