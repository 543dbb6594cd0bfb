#!/usr/bin/env bash
# Runs commands side by side and fails if any of them fails:
#   script/parallel.sh NAME1 "COMMAND1" NAME2 "COMMAND2" ...
# Each command's output goes to its own log, printed whole once it ends (in the order they end),
# so the outputs do not interleave; a line marks each start and end with its exit status and time.
set -uo pipefail

(($# > 0 && $# % 2 == 0)) || { echo "usage: $0 NAME COMMAND [NAME COMMAND ...]" >&2; exit 2; }
logs="$(mktemp -d)"
pids=()
names=()
started=$SECONDS
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each command in its own process group, so a failure or Ctrl-C can stop all of its children.
set -m
while (($#)); do
  name=$1 cmd=$2
  shift 2
  echo "parallel: starting $name: $cmd"
  bash -c "$cmd" </dev/null >"$logs/${#names[@]}.log" 2>&1 &
  pids+=($!)
  names+=("$name")
done
set +m

status=0
left=${#pids[@]}
declare -A reported=()
while ((left > 0)); do
  wait -n "${pids[@]}" 2>/dev/null || true
  for i in "${!pids[@]}"; do
    [[ -n "${reported[$i]:-}" ]] && continue
    kill -0 "${pids[$i]}" 2>/dev/null && continue
    wait "${pids[$i]}"
    rc=$?
    reported[$i]=1
    left=$((left - 1))
    echo "---------------- ${names[$i]} (exit $rc, $((SECONDS - started)) s) ----------------"
    cat "$logs/$i.log"
    echo "---------------- end of ${names[$i]} ----------------"
    ((rc == 0)) || status=1
  done
done
pids=()
exit $status
