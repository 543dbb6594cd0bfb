//! `proofline params` as a user runs it: the built binary, its flags and their environment
//! variables. The arithmetic itself is tested in proofline-params.

use std::process::{Command, Output};

fn params(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_proofline"));
    command.arg("params").args(args).env("RUST_BACKTRACE", "0");
    for (name, _) in std::env::vars() {
        if name.starts_with("PROOFLINE_PARAMS_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command.output().expect("runs the proofline binary")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "proofline params failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

#[test]
fn defaults_reproduce_spec_k_and_c() {
    let text = stdout(&params(&[], &[]));
    assert!(text.contains("committee size      K = 48\n"), "{text}");
    assert!(
        text.contains("claim window        C = 13 slots\n"),
        "{text}"
    );
    assert!(text.contains("M = floor(f·N) = 3333"), "{text}");
    assert!(text.contains("K = 48      X >= 33      5.355e-7"), "{text}");
    assert!(text.contains("C = 13      6.272e-7"), "{text}");
    assert!(text.contains("19 slots = 684 s"), "{text}");
}

#[test]
fn flags_and_environment_change_the_target() {
    let flags = stdout(&params(
        &[
            "--validators",
            "100000",
            "--malicious-fraction",
            "0.25",
            "--epsilon",
            "1e-30",
            "--epoch-duration",
            "64",
            "--slot-duration",
            "12",
        ],
        &[],
    ));
    assert!(flags.contains("K = 170\n"), "{flags}");
    assert!(flags.contains("C = 50 slots\n"), "{flags}");
    assert!(flags.contains("64 - 50 = 14 slots = 168 s"), "{flags}");
    let env = stdout(&params(
        &[],
        &[
            ("PROOFLINE_PARAMS_VALIDATORS", "100000"),
            ("PROOFLINE_PARAMS_MALICIOUS_FRACTION", "1/4"),
            (
                "PROOFLINE_PARAMS_EPSILON",
                "0.000000000000000000000000000001",
            ),
            ("PROOFLINE_PARAMS_EPOCH_DURATION", "64"),
            ("PROOFLINE_PARAMS_SLOT_DURATION", "12"),
        ],
    ));
    assert_eq!(env, flags);
}

#[test]
fn an_unmeetable_target_fails_with_a_reason() {
    let output = params(&["--malicious-fraction", "0.7", "--validators", "300"], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no committee size up to N = 300 meets ε"),
        "{stderr}"
    );
    let output = params(&["--epsilon", "1"], &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ε must be strictly between 0 and 1"));
    let output = params(&["--epsilon", "one in a million"], &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a number"));
}
