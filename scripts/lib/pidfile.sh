# Shared by the service scripts (emulator.sh, trino.sh): stopping a process this script started.
# Source it; it defines functions only.

# stop_pidfile PIDFILE NAME SECONDS: stop the process in PIDFILE (if it runs): SIGTERM, up to SECONDS for
# it to exit, then SIGKILL; remove the file either way. Prints "<prefix>: stopped NAME PID".
stop_pidfile() {
  local pidfile="$1" name="$2" seconds="$3" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 $((seconds * 4))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    echo "$(basename "$0" .sh): stopped $name $pid"
  fi
  rm -f "$pidfile"
}
