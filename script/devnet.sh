#!/usr/bin/env bash
# Local devnet: anvil + the Rollup deployed with the same forge script users run, then a live
# view of slots, epochs and the pending tip until Ctrl-C (`make devnet`).
#
# Environment (all optional):
#   DEVNET_PORT          anvil port                                   8545
#   DEVNET_CHAIN_ID      anvil chain id (deployments/<id>.json)       31337
#   DEVNET_BLOCK_TIME    seconds between L1 blocks                    2
#   DEVNET_VALIDATORS    validators staked at deploy                  8
#   DEVNET_POLL          seconds between status lines                 4
#   DEVNET_EXIT_AFTER    stop after watching this many seconds        (run until Ctrl-C)
#   DEVNET_DIR           where anvil.log and deploy.log go            .devnet
#   FORGE, ANVIL, CAST   tool binaries                                node_modules/@foundry-rs/...
# Deploy.s.sol's own variables (SLOT_DURATION, EPOCH_DURATION, ...) pass through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FORGE="${FORGE:-$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin/forge}"
ANVIL="${ANVIL:-$ROOT/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}"
CAST="${CAST:-$ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin/cast}"
PORT="${DEVNET_PORT:-8545}"
CHAIN_ID="${DEVNET_CHAIN_ID:-31337}"
BLOCK_TIME="${DEVNET_BLOCK_TIME:-2}"
VALIDATORS="${DEVNET_VALIDATORS:-8}"
POLL="${DEVNET_POLL:-4}"
EXIT_AFTER="${DEVNET_EXIT_AFTER:-}"
DIR="${DEVNET_DIR:-$ROOT/.devnet}"
RPC="http://127.0.0.1:$PORT"
# anvil's first test account (mnemonic "test test ... junk", index 0): public, devnet only.
DEPLOYER_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

for tool in "$FORGE" "$ANVIL" "$CAST"; do
  [[ -x "$tool" ]] || { echo "devnet: $tool not found; run 'make install'" >&2; exit 1; }
done
mkdir -p "$DIR"

ANVIL_PID=""
stop_anvil() {
  if [[ -n "$ANVIL_PID" ]]; then
    # On Ctrl-C anvil may already be on its way out: it handles SIGINT itself.
    kill "$ANVIL_PID" 2>/dev/null || true
    wait "$ANVIL_PID" 2>/dev/null || true
    echo "devnet: anvil stopped"
  fi
  rm -f "$DIR/anvil.pid"
}
trap stop_anvil EXIT
# Ctrl-C and `kill` are how a devnet is meant to end: stop anvil (EXIT trap) and report success.
trap 'echo; echo "devnet: shutting down"; exit 0' INT TERM

# Sleep without blocking signals: bash runs a trap only once its foreground child returns, so a
# plain `sleep` would delay Ctrl-C by up to its whole duration.
pause() {
  sleep "$1" &
  wait $! || true
}

call() { "$CAST" call --rpc-url "$RPC" "$@" | awk '{print $1}'; }

if "$CAST" chain-id --rpc-url "$RPC" >/dev/null 2>&1; then
  echo "devnet: something already answers on $RPC; stop it or set DEVNET_PORT" >&2
  exit 1
fi

# Compile what the deployment needs (not the tests) before the chain starts, so that genesis is
# not minutes in the past on a fresh clone.
echo "devnet: building contracts"
"$FORGE" build script/Deploy.s.sol >/dev/null

echo "devnet: starting anvil on $RPC (chain $CHAIN_ID, prague, ${BLOCK_TIME}s blocks); log: $DIR/anvil.log"
"$ANVIL" --host 127.0.0.1 --port "$PORT" --chain-id "$CHAIN_ID" --hardfork prague \
  --block-time "$BLOCK_TIME" >"$DIR/anvil.log" 2>&1 &
ANVIL_PID=$!
echo "$ANVIL_PID" >"$DIR/anvil.pid"
echo "devnet: anvil pid $ANVIL_PID"

for ((i = 0; ; i++)); do
  if ! kill -0 "$ANVIL_PID" 2>/dev/null; then
    echo "devnet: anvil exited; last lines of $DIR/anvil.log:" >&2
    tail -n 20 "$DIR/anvil.log" >&2
    exit 1
  fi
  "$CAST" chain-id --rpc-url "$RPC" >/dev/null 2>&1 && break
  if ((i >= 100)); then
    echo "devnet: anvil did not answer on $RPC within 20 s" >&2
    exit 1
  fi
  sleep 0.2
done

echo "devnet: deploying (script/Deploy.s.sol, $VALIDATORS validators); log: $DIR/deploy.log"
if ! STAKE_VALIDATORS="$VALIDATORS" "$FORGE" script script/Deploy.s.sol --rpc-url "$RPC" \
  --broadcast --private-key "$DEPLOYER_KEY" >"$DIR/deploy.log" 2>&1; then
  echo "devnet: deployment failed; last lines of $DIR/deploy.log:" >&2
  tail -n 30 "$DIR/deploy.log" >&2
  exit 1
fi

DEPLOYMENT="deployments/$CHAIN_ID.json"
field() { node -e 'console.log(require(process.argv[1])[process.argv[2]])' "$ROOT/$DEPLOYMENT" "$1"; }
ROLLUP="$(field rollup)"
GENESIS="$(field genesisTime)"
SLOT_SECONDS="$(field slotDuration)"
EPOCH_SLOTS="$(field epochDuration)"

echo
echo "Deployed ($DEPLOYMENT):"
echo "  rpc            $RPC"
echo "  rollup         $ROLLUP"
echo "  staking asset  $(field stakingAsset)"
echo "  deployer       $(field deployer)"
echo "  genesis time   $GENESIS  (slots of ${SLOT_SECONDS}s, epochs of $EPOCH_SLOTS slots)"
echo "  validators     $(node -e 'console.log(require(process.argv[1]).validators.length)' "$ROOT/$DEPLOYMENT")"
echo

# Validators staked in epoch E join the set snapshotted for epoch E + 2's committee, so the first
# two epochs have none: getProposerAt returns the zero address, meaning anyone may propose.
current_slot="$(call "$ROLLUP" "getCurrentSlot()(uint256)")"
echo "Proposers of the next slots (0x0: no committee yet, anyone may propose):"
for ((s = current_slot + 1; s <= current_slot + 4; s++)); do
  # Proposers are fixed one epoch ahead only (short epochs set through EPOCH_DURATION).
  ((s / EPOCH_SLOTS <= current_slot / EPOCH_SLOTS + 1)) || break
  ts=$((GENESIS + s * SLOT_SECONDS))
  proposer="$(call "$ROLLUP" "getProposerAt(uint256)(address)" "$ts")"
  note=""
  [[ "$proposer" == 0x0000000000000000000000000000000000000000 ]] && note="  (anyone may propose)"
  echo "  slot $s (epoch $((s / EPOCH_SLOTS)), t=$ts): proposer $proposer$note"
done
echo

echo "devnet: watching the chain every ${POLL}s${EXIT_AFTER:+ for ${EXIT_AFTER}s}; Ctrl-C to stop"
start=$SECONDS
while [[ -z "$EXIT_AFTER" ]] || ((SECONDS - start < EXIT_AFTER)); do
  block="$("$CAST" block-number --rpc-url "$RPC")"
  slot="$(call "$ROLLUP" "getCurrentSlot()(uint256)")"
  epoch="$(call "$ROLLUP" "getCurrentEpoch()(uint256)")"
  tip="$(call "$ROLLUP" "getPendingBlockNumber()(uint256)")"
  proposer="$(call "$ROLLUP" "getCurrentProposer()(address)")"
  echo "  L1 block $block  slot $slot  epoch $epoch  pending tip $tip  proposer $proposer"
  pause "$POLL"
done
echo "devnet: DEVNET_EXIT_AFTER=${EXIT_AFTER}s reached"
