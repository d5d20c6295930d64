//! End-to-end tests of the `kling-preflight` command line, run in-process through
//! `main_with_args` and as the real binary where process behaviour matters.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kling-preflight"))
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let out = bin().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("lint"));
}
