#!/usr/bin/env bash
# Tests `make devnet` (script/devnet.sh) end to end, on a free port and its own chain id so a
# devnet already running on this machine is left alone:
#   1. `make devnet` with DEVNET_EXIT_AFTER deploys, writes deployments/<chainId>.json, prints the
#      rollup address and the next slots' proposers, shows L2 blocks with txs landing (two nodes,
#      tx generators), an epoch claimed by a prover and its proof landed (two provers, a
#      submitter), and exits 0 with anvil and every agent gone;
#   2. while it runs, no private key is on any process's command line (ps); SIGINT to the
#      devnet's process group (what Ctrl-C does) exits 0 with anvil gone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CAST="${CAST:-$ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin/cast}"
MAKE="${MAKE:-make}"

# A chain id nobody else uses here, so the test never overwrites a real devnet's deployment file.
export DEVNET_CHAIN_ID=31399
export DEVNET_POLL=2
DEPLOYMENT="deployments/$DEVNET_CHAIN_ID.json"
WORK="$(mktemp -d)"
DEVNET_PID=""

cleanup() {
  if [[ -n "$DEVNET_PID" ]] && kill -0 "$DEVNET_PID" 2>/dev/null; then
    kill -TERM -- "-$DEVNET_PID" 2>/dev/null || true
    wait "$DEVNET_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK" "$DEPLOYMENT" "broadcast/Deploy.s.sol/$DEVNET_CHAIN_ID"
  rmdir -p broadcast/Deploy.s.sol 2>/dev/null || true
}
trap cleanup EXIT

fail() {
  echo "test-devnet: FAIL: $*" >&2
  for f in "$WORK"/*.out "$WORK"/*/anvil.log "$WORK"/*/deploy.log; do
    [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

free_port() {
  node -e 'const s = require("net").createServer();
           s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# The devnet must be gone: its anvil process dead and nothing answering on its port.
assert_stopped() {
  local out=$1 port=$2 pid
  pid="$(sed -n 's/^devnet: anvil pid \([0-9]*\)$/\1/p' "$out")"
  [[ -n "$pid" ]] || fail "no anvil pid in $out"
  if kill -0 "$pid" 2>/dev/null; then
    fail "anvil (pid $pid) still running"
  fi
  if "$CAST" chain-id --rpc-url "http://127.0.0.1:$port" >/dev/null 2>&1; then
    fail "something still answers on port $port"
  fi
}

# ---- 1. make devnet, stopping by itself
port="$(free_port)"
rm -f "$DEPLOYMENT"
echo "test-devnet: make devnet on port $port for 75 s"
rc=0
DEVNET_PORT=$port DEVNET_DIR="$WORK/run1" DEVNET_EXIT_AFTER=75 \
  "$MAKE" --no-print-directory devnet </dev/null >"$WORK/run1.out" 2>&1 || rc=$?
((rc == 0)) || fail "make devnet exited $rc"
[[ -f "$DEPLOYMENT" ]] || fail "$DEPLOYMENT was not written"
rollup="$(node -e 'console.log(require(process.argv[1]).rollup)' "$ROOT/$DEPLOYMENT")"
[[ "$rollup" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "no rollup address in $DEPLOYMENT"
grep -q "rollup *$rollup" "$WORK/run1.out" || fail "rollup address $rollup not printed"
grep -Eq "slot [0-9]+ \(epoch [0-9]+, t=[0-9]+\): proposer 0x[0-9a-fA-F]{40}" "$WORK/run1.out" \
  || fail "no proposer line printed"
grep -Eq "pending tip [0-9]+" "$WORK/run1.out" || fail "no status line printed"
# The nodes proposed blocks that carried the generators' txs, and node 0 synced them.
grep -Eq "pending tip [1-9][0-9]* .*synced [1-9][0-9]*  txs in last block [1-9]" "$WORK/run1.out" \
  || fail "no L2 block with txs landed and synced"
# The first epoch (48 s) was claimed by one of the provers and its proof landed.
grep -Eq "claimed by 0x[0-9a-fA-F]{40}, bond [1-9]" "$WORK/run1.out" || fail "no epoch was claimed"
grep -Eq "proofs [1-9]" "$WORK/run1.out" || fail "no proof landed"
grep -q "devnet: nodes stopped" "$WORK/run1.out" || fail "the nodes were not stopped"
assert_stopped "$WORK/run1.out" "$port"
for k in 0 1; do
  if pgrep -f "proofline node .*--data-dir $WORK/run1/node$k" >/dev/null; then
    fail "node $k still running"
  fi
  if pgrep -f "proofline prover .*--data-dir $WORK/run1/prover$k" >/dev/null; then
    fail "prover $k still running"
  fi
done
pgrep -f "proofline submitter .*--data-dir $WORK/run1/submitter" >/dev/null && fail "the submitter is still running"
echo "test-devnet: ok: deployed $rollup, blocks with txs landed, an epoch proven, stopped after DEVNET_EXIT_AFTER"

# ---- 2. Ctrl-C
port="$(free_port)"
echo "test-devnet: devnet on port $port, then SIGINT"
# Job control puts the devnet in its own process group (so SIGINT reaches it and its children,
# as Ctrl-C would) and keeps bash from ignoring SIGINT in it, as it does for background jobs.
set -m
DEVNET_PORT=$port DEVNET_DIR="$WORK/run2" DEVNET_EXIT_AFTER=120 \
  script/devnet.sh </dev/null >"$WORK/run2.out" 2>&1 &
DEVNET_PID=$!
set +m
for ((i = 0; i < 600; i++)); do
  grep -qs "watching the chain" "$WORK/run2.out" && break
  kill -0 "$DEVNET_PID" 2>/dev/null || fail "devnet exited before it was up"
  sleep 0.1
done
grep -q "watching the chain" "$WORK/run2.out" || fail "devnet not up within 60 s"
# No private key of the devnet's accounts (test mnemonic indices 0..24: the deployer, validators,
# provers, submitter, fallback proposer, tx generators) on any process's command line.
MNEMONIC="test test test test test test test test test test test junk"
leaked=()
args="$(ps -eo args=)"
for ((i = 0; i < 25; i++)); do
  key="$("$CAST" wallet private-key --mnemonic "$MNEMONIC" --mnemonic-index "$i")"
  grep -qiF -- "${key#0x}" <<<"$args" && leaked+=("index $i")
done
((${#leaked[@]} == 0)) || fail "private keys on a command line (ps): ${leaked[*]}"
echo "test-devnet: ok: no private key in ps while the devnet runs"
kill -INT -- "-$DEVNET_PID"
rc=0
wait "$DEVNET_PID" || rc=$?
DEVNET_PID=""
((rc == 0)) || fail "devnet exited $rc on SIGINT"
grep -q "anvil stopped" "$WORK/run2.out" || fail "devnet did not report stopping anvil"
assert_stopped "$WORK/run2.out" "$port"
echo "test-devnet: ok: SIGINT exits 0 and stops anvil"
