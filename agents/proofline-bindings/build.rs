//! Keeps forge's artifacts in `out/` current before `sol!` reads them.
//!
//! The bindings in `src/lib.rs` are expanded from `out/<File>.sol/<Contract>.json`, so a change to
//! `contracts/` must reach `out/` first. Cargo runs this script when `contracts/`, foundry.toml or
//! one of the artifacts changed (and on a fresh build); it then runs `forge build contracts` with
//! the project's foundry.toml and the pinned platform binary. Whether out/ is missing or stale is
//! forge's call: its cache compares source hashes, so an up-to-date out/ costs about a second and
//! compiles nothing. The artifacts themselves are read by `sol!`, which tracks them with
//! `include_bytes!`. With `PROOFLINE_CONTRACTS_BUILT` set (`make test`, which has just built them
//! and runs forge's tests at the same time), it only checks that they are there.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

/// `(source file, contract)` of every artifact the bindings read; keep in sync with src/lib.rs.
const ARTIFACTS: &[(&str, &str)] = &[
    ("Rollup.sol", "Rollup"),
    ("ProverEscrow.sol", "ProverEscrow"),
    ("ForcedInclusionQueue.sol", "ForcedInclusionQueue"),
    ("IEpochVerifier.sol", "IEpochVerifier"),
    ("InsecureDevEpochVerifier.sol", "InsecureDevEpochVerifier"),
    (
        "InsecureDevTxProofVerifier.sol",
        "InsecureDevTxProofVerifier",
    ),
    ("DevToken.sol", "DevToken"),
    ("Errors.sol", "Errors"),
    ("StakingLib.sol", "StakingLib"),
];

/// The forge binary relative to the workspace root, as in the Makefile (never the npm launcher in
/// node_modules/.bin: it exits 0 when forge fails).
const DEFAULT_FORGE: &str = "node_modules/@foundry-rs/forge-linux-amd64/bin/forge";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("workspace root exists");
    let contracts = root.join("contracts");
    let foundry_toml = root.join("foundry.toml");
    let out = root.join("out");

    println!("cargo:rerun-if-changed={}", contracts.display());
    println!("cargo:rerun-if-changed={}", foundry_toml.display());
    println!("cargo:rerun-if-env-changed=FORGE");
    let artifacts: Vec<PathBuf> = ARTIFACTS
        .iter()
        .map(|(file, name)| out.join(file).join(format!("{name}.json")))
        .collect();
    for artifact in &artifacts {
        println!("cargo:rerun-if-changed={}", artifact.display());
    }

    // `make test` builds the contracts first and then runs forge's tests and cargo side by side:
    // a second forge here would race the first one over out/ and forge's cache, so it only checks
    // that the artifacts are there.
    println!("cargo:rerun-if-env-changed=PROOFLINE_CONTRACTS_BUILT");
    if env::var_os("PROOFLINE_CONTRACTS_BUILT").is_some() {
        for artifact in &artifacts {
            if !artifact.is_file() {
                panic!(
                    "proofline-bindings: PROOFLINE_CONTRACTS_BUILT is set but {} is missing \
                     (run `forge build contracts`)",
                    artifact.display()
                );
            }
            check_artifact(artifact);
        }
        return;
    }
    let forge = env::var_os("FORGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FORGE));
    let forge = if forge.is_relative() {
        root.join(forge)
    } else {
        forge
    };
    if !forge.is_file() {
        panic!(
            "proofline-bindings: forge is not installed at {} (run `make install`); it builds the \
             artifacts in out/ that the contract bindings are generated from",
            forge.display()
        );
    }
    let output = Command::new(&forge)
        .current_dir(&root)
        .args(["build", "contracts"])
        .output()
        .unwrap_or_else(|e| panic!("proofline-bindings: cannot run {}: {e}", forge.display()));
    if !output.status.success() {
        panic!(
            "proofline-bindings: `{} build contracts` failed ({}):\n{}\n{}",
            forge.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for artifact in &artifacts {
        if !artifact.is_file() {
            panic!(
                "proofline-bindings: forge build did not produce {}",
                artifact.display()
            );
        }
        check_artifact(artifact);
    }
}

/// Fails early, with the file named, on an artifact without an ABI (sol! would say less).
fn check_artifact(path: &Path) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    if !json.get("abi").is_some_and(serde_json::Value::is_array) {
        panic!("{} has no ABI", path.display());
    }
}
