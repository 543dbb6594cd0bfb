//! The command line holds no secret (issue 15): every user of a host reads a process's arguments
//! in `ps`, so no flag of any agent takes a private key itself, only a key file or a keystore.

use std::process::Command;

/// Every flag whose name speaks of a key, in `proofline <args> --help`.
fn key_flags(args: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_proofline"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace()
        .filter(|w| w.starts_with("--") && w.contains("key"))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_owned()
        })
        .collect()
}

#[test]
fn no_flag_takes_a_raw_key() {
    let mut seen = 0;
    for cmd in [
        &["node"][..],
        &["prover"],
        &["submitter"],
        &["escrow"],
        &["txgen"],
        &["keystore", "import"],
    ] {
        for flag in key_flags(cmd) {
            seen += 1;
            assert!(
                flag.ends_with("-file") || flag.ends_with("-keystore") || flag == "--keystore",
                "`proofline {}` takes a key on its command line: {flag}",
                cmd.join(" ")
            );
        }
    }
    assert!(seen >= 8, "the agents' key flags were not found in --help");
}
