#!/usr/bin/env bash
# Local devnet (`make devnet`): anvil, the Rollup deployed with the same forge script users run,
# a full committee of validators staked, `proofline node` processes holding those validators
# (they exchange attestations over libp2p), a tx generator, and a live view of slots, epochs,
# tips and txs per block until Ctrl-C.
#
# Environment (all optional):
#   DEVNET_PORT          anvil port; nodes use PORT+100+k (RPC), +200+k (metrics), +300+k (p2p)
#                                                                     8545
#   DEVNET_CHAIN_ID      anvil chain id (deployments/<id>.json)       31337
#   DEVNET_BLOCK_TIME    seconds between L1 blocks                    2
#   DEVNET_VALIDATORS    validators staked at deploy                  8
#   DEVNET_NODES         node processes sharing the validators        2
#   DEVNET_PROVERS       prover processes, each pricing higher        2
#                        (they use ports PORT+400+k, +500+k, +600+k, +700+k)
#   DEVNET_TX_RATE       txs per second from the generator (0: none)  5
#   DEVNET_POLL          seconds between status lines                 2
#   DEVNET_EXIT_AFTER    stop after watching this many seconds        (run until Ctrl-C)
#   DEVNET_DIR           where the logs and the nodes' data go        .devnet
#   FORGE, ANVIL, CAST   tool binaries                                node_modules/@foundry-rs/...
# Deploy.s.sol's own variables pass through; SLOT_DURATION defaults to 6 s and EPOCH_DURATION to
# 8 slots here, so epochs pass in under a minute.
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
NODES="${DEVNET_NODES:-2}"
PROVERS="${DEVNET_PROVERS:-2}"
TX_RATE="${DEVNET_TX_RATE:-5}"
POLL="${DEVNET_POLL:-2}"
export SLOT_DURATION="${SLOT_DURATION:-6}"
export EPOCH_DURATION="${EPOCH_DURATION:-8}"
# Without provers no epoch is ever proven and the pending chain is pruned each epoch; based
# fallback (3 epochs without proven progress by default) would then stop the committee for good.
if ((PROVERS == 0)); then
  export FALLBACK_ENTER="${FALLBACK_ENTER:-$((1000 * EPOCH_DURATION))}"
fi
EXIT_AFTER="${DEVNET_EXIT_AFTER:-}"
DIR="${DEVNET_DIR:-$ROOT/.devnet}"
RPC="http://127.0.0.1:$PORT"
# anvil's first test account (mnemonic "test test ... junk", index 0): public, devnet only.
DEPLOYER_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
MNEMONIC="test test test test test test test test test test test junk"
PROOFLINE="$ROOT/target/debug/proofline"

for tool in "$FORGE" "$ANVIL" "$CAST"; do
  [[ -x "$tool" ]] || { echo "devnet: $tool not found; run 'make install'" >&2; exit 1; }
done
mkdir -p "$DIR"

ANVIL_PID=""
AGENT_PIDS=()
stop_anvil() {
  if ((${#AGENT_PIDS[@]})); then
    kill -TERM "${AGENT_PIDS[@]}" 2>/dev/null || true
    # An agent that does not stop within 15 s is killed: shutdown never hangs.
    for ((t = 0; t < 150; t++)); do
      alive=0
      for pid in "${AGENT_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    if ((alive)); then
      echo "devnet: agents still running after 15 s; killing them" >&2
      kill -KILL "${AGENT_PIDS[@]}" 2>/dev/null || true
    fi
    wait "${AGENT_PIDS[@]}" 2>/dev/null || true
    echo "devnet: nodes stopped"
  fi
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
echo "devnet: building the proofline binary (cargo build -p proofline)"
cargo build --quiet -p proofline ${CI:+--locked}

echo "devnet: starting anvil on $RPC (chain $CHAIN_ID, prague, ${BLOCK_TIME}s blocks); log: $DIR/anvil.log"
# Enough funded accounts for the deployer, every validator (they pay for their proposals), every
# prover, the submitter and node 0's based-fallback key.
"$ANVIL" --host 127.0.0.1 --port "$PORT" --chain-id "$CHAIN_ID" --hardfork prague \
  --block-time "$BLOCK_TIME" --accounts $((VALIDATORS + PROVERS + 3 + NODES)) >"$DIR/anvil.log" 2>&1 &
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
  # Proposers are known one epoch ahead, once the current epoch is set up (its first block does
  # it: the next epoch's seed is drawn then).
  ((s / EPOCH_SLOTS <= current_slot / EPOCH_SLOTS + 1)) || break
  ts=$((GENESIS + s * SLOT_SECONDS))
  proposer="$(call "$ROLLUP" "getProposerAt(uint256)(address)" "$ts" 2>/dev/null)" || {
    echo "  slot $s (epoch $((s / EPOCH_SLOTS))): not known until epoch $((s / EPOCH_SLOTS - 1)) is set up"
    continue
  }
  note=""
  [[ "$proposer" == 0x0000000000000000000000000000000000000000 ]] && note="  (anyone may propose)"
  echo "  slot $s (epoch $((s / EPOCH_SLOTS)), t=$ts): proposer $proposer$note"
done
echo

# No agent takes a key on its command line (every user of the host reads those in `ps`): each
# gets a key file readable by its owner only, or, for the provers, an encrypted keystore as an
# operator would keep one (docs/prover.md), made from such a file by `proofline keystore import`.
key_of() { "$CAST" wallet private-key --mnemonic "$MNEMONIC" --mnemonic-index "$1"; }
KEYS="$DIR/keys"
rm -rf "$KEYS"
(umask 077 && mkdir -p "$KEYS" && echo "devnet" >"$KEYS/password")

# The validators' keys (test mnemonic indices 1..VALIDATORS, as Deploy.s.sol staked them), dealt
# round-robin to the nodes, so every node holds part of each committee.
for ((k = 0; k < NODES; k++)); do
  rm -rf "$DIR/node$k"
  mkdir -p "$DIR/node$k"
  (umask 077 && : >"$DIR/node$k/validators.keys")
done
for ((i = 1; i <= VALIDATORS; i++)); do
  key_of "$i" >>"$DIR/node$(((i - 1) % NODES))/validators.keys"
done

p2p_addr() { echo "/ip4/127.0.0.1/tcp/$((PORT + 300 + $1))"; }
# Node 0 also proposes with proofs if the Rollup enters based fallback (no proof for
# FALLBACK_ENTER slots, e.g. every prover down), with the last funded account (index
# VALIDATORS + PROVERS + 2), so the chain stays live; the committee steps aside meanwhile.
(umask 077 && key_of $((VALIDATORS + PROVERS + 2)) >"$KEYS/fallback.key")
for ((k = 0; k < NODES; k++)); do
  peers=()
  for ((j = 0; j < NODES; j++)); do
    ((j == k)) || peers+=(--peer "$(p2p_addr "$j")")
  done
  based=()
  ((k == 0)) && based=(--fallback-key-file "$KEYS/fallback.key")
  "$PROOFLINE" node --l1-rpc "$RPC" --deployment "$ROOT/$DEPLOYMENT" \
    --validator-keys-file "$DIR/node$k/validators.keys" --data-dir "$DIR/node$k" \
    --rpc-addr "127.0.0.1:$((PORT + 100 + k))" --metrics-addr "127.0.0.1:$((PORT + 200 + k))" \
    --p2p-listen "$(p2p_addr "$k")" "${peers[@]}" "${based[@]}" --poll-ms 500 \
    >"$DIR/node$k.log" 2>&1 &
  AGENT_PIDS+=($!)
  echo "devnet: node $k (pid $!): rpc http://127.0.0.1:$((PORT + 100 + k)), metrics http://127.0.0.1:$((PORT + 200 + k))/metrics, log $DIR/node$k.log"
done
NODE_RPC="http://127.0.0.1:$((PORT + 100))"

# The submitter (test mnemonic index VALIDATORS + PROVERS + 1) lands the provers' proofs, and the
# provers (indices VALIDATORS + 1 ..) quote with margins of 10 %, 30 %, ...: the first is the
# cheapest, so it should win the claims.
SUBMITTER_URL="http://127.0.0.1:$((PORT + 800))"
if ((PROVERS > 0)); then
  rm -rf "$DIR/submitter"
  (umask 077 && key_of $((VALIDATORS + PROVERS + 1)) >"$KEYS/submitter.key")
  "$PROOFLINE" submitter --l1-rpc "$RPC" --deployment "$ROOT/$DEPLOYMENT" \
    --key-file "$KEYS/submitter.key" \
    --data-dir "$DIR/submitter" --rpc-addr "127.0.0.1:$((PORT + 800))" \
    --metrics-addr "127.0.0.1:$((PORT + 801))" >"$DIR/submitter.log" 2>&1 &
  AGENT_PIDS+=($!)
  echo "devnet: submitter (pid $!): rpc $SUBMITTER_URL, metrics http://127.0.0.1:$((PORT + 801))/metrics, log $DIR/submitter.log"
fi
node_rpcs=()
for ((k = 0; k < NODES; k++)); do node_rpcs+=(--publish-to "http://127.0.0.1:$((PORT + 100 + k))"); done
for ((k = 0; k < PROVERS; k++)); do
  rm -rf "$DIR/prover$k"
  (umask 077 && key_of $((VALIDATORS + 1 + k)) >"$KEYS/prover$k.key")
  "$PROOFLINE" keystore import --key-file "$KEYS/prover$k.key" --out "$KEYS/prover$k.json" \
    --keystore-password-file "$KEYS/password" >/dev/null
  rm -f "$KEYS/prover$k.key"
  "$PROOFLINE" prover --l1-rpc "$RPC" --deployment "$ROOT/$DEPLOYMENT" \
    --prover-keystore "$KEYS/prover$k.json" --keystore-password-file "$KEYS/password" \
    --dev-mint --margin-bps $((1000 + 2000 * k)) --data-dir "$DIR/prover$k" \
    --rpc-addr "127.0.0.1:$((PORT + 400 + k))" --metrics-addr "127.0.0.1:$((PORT + 500 + k))" \
    --p2p-listen "/ip4/127.0.0.1/tcp/$((PORT + 600 + k))" --peer "$(p2p_addr 0)" \
    --prover-metrics-addr "127.0.0.1:$((PORT + 700 + k))" --poll-ms 500 \
    "${node_rpcs[@]}" --no-submit --submitter "$SUBMITTER_URL" \
    >"$DIR/prover$k.log" 2>&1 &
  AGENT_PIDS+=($!)
  echo "devnet: prover $k (pid $!): margin $((10 + 20 * k)) %, metrics http://127.0.0.1:$((PORT + 700 + k))/metrics, log $DIR/prover$k.log"
done
# One generator per node (nodes do not gossip txs yet), each with its share of the rate. Each
# pays real fees: its key (test mnemonic index VALIDATORS + PROVERS + 3 + k, in a key file) mints
# fee tokens, deposits them through the forced-inclusion queue for its own L2 account, waits for a
# block to take the deposit, then signs its txs as their payer.
if ((TX_RATE > 0)); then
  for ((k = 0; k < NODES; k++)); do
    key_file="$DIR/txgen$k.key"
    (umask 077 && "$CAST" wallet private-key --mnemonic "$MNEMONIC" \
      --mnemonic-index $((VALIDATORS + PROVERS + 3 + k)) >"$key_file")
    "$PROOFLINE" txgen --node-rpc "http://127.0.0.1:$((PORT + 100 + k))" --seed $((k + 1)) \
      --rate "$(node -e "console.log(Math.max(1, Math.round($TX_RATE / $NODES)))")" \
      --key-file "$key_file" --dev-mint --l1-rpc "$RPC" --deployment "$ROOT/$DEPLOYMENT" \
      >"$DIR/txgen$k.log" 2>&1 &
    AGENT_PIDS+=($!)
  done
  echo "devnet: tx generators: $TX_RATE txs/s over the nodes, fees paid from L2 balances funded"
  echo "        by fee deposits through the forced-inclusion queue; logs $DIR/txgen*.log"
fi
echo

# Claims, bonds, proofs and prunes, from the Rollup's state and events.
market_line() {
  local epoch claim prover bond proofs prunes slashes
  epoch="$(call "$ROLLUP" "getEpochToProve()(uint256)" 2>/dev/null || echo '?')"
  claim="$("$CAST" call --rpc-url "$RPC" "$ROLLUP" "getProofClaim(uint256)((uint256,address,uint256,uint256))" "$epoch" 2>/dev/null || true)"
  prover="$(sed -n 's/^(\([0-9]*\), \(0x[0-9a-fA-F]*\), \([0-9]*\).*/\2/p' <<<"$claim")"
  bond="$(sed -n 's/^(\([0-9]*\), \(0x[0-9a-fA-F]*\), \([0-9]*\).*/\3/p' <<<"$claim")"
  count() { "$CAST" logs --rpc-url "$RPC" --from-block 0 --address "$ROLLUP" "$1" 2>/dev/null | grep -c transactionHash || true; }
  proofs="$(count "L2ProofVerified(uint256,uint256,address)")"
  prunes="$(count "PrunedPending(uint256,uint256)")"
  slashes="$(count "BondSlashed(uint256,address,uint256)")"
  if [[ -z "$prover" || "$prover" == 0x0000000000000000000000000000000000000000 ]]; then
    printf '    epoch to prove %s: unclaimed' "$epoch"
  else
    printf '    epoch to prove %s: claimed by %s, bond %s' "$epoch" "$prover" "$bond"
  fi
  printf '  |  proofs %s  prunes %s  slashes %s\n' "$proofs" "$prunes" "$slashes"
}

echo "devnet: watching the chain every ${POLL}s${EXIT_AFTER:+ for ${EXIT_AFTER}s}; Ctrl-C to stop"
start=$SECONDS
while [[ -z "$EXIT_AFTER" ]] || ((SECONDS - start < EXIT_AFTER)); do
  for pid in "${AGENT_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && continue
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    # An agent ends on its own only when it fails. One that exited 0 (or died of SIGINT/SIGTERM)
    # was stopped by a Ctrl-C that reached the whole process group, which this shell can miss:
    # bash drops a SIGINT that arrives while a foreground child (the status query) handles it.
    if ((rc == 0 || rc == 130 || rc == 143)); then
      echo
      echo "devnet: shutting down"
      exit 0
    fi
    echo "devnet: agent $pid exited with status $rc; see $DIR/*.log" >&2
    exit 1
  done
  status="$("$PROOFLINE" status --node-rpc "$NODE_RPC" 2>/dev/null | tr -d ' \n' || true)"
  num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$status"; }
  if [[ -n "$status" ]]; then
    fallback=""
    grep -q '"inFallback":true' <<<"$status" && fallback="  FALLBACK"
    printf '  L1 block %s  slot %s  epoch %s  pending tip %s  proven tip %s  synced %s  txs in last block %s  pool %s%s\n' \
      "$(num l1Block)" "$(num slot)" "$(num epoch)" "$(num pendingBlock)" "$(num provenBlock)" \
      "$(num syncedBlock)" "$(num lastBlockTxs)" "$(num mempoolTxs)" "$fallback"
    ((PROVERS > 0)) && market_line
  else
    echo "  node 0 not answering yet"
  fi
  pause "$POLL"
done
echo "devnet: DEVNET_EXIT_AFTER=${EXIT_AFTER}s reached"
