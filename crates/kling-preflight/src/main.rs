//! The `kling-preflight` binary: everything lives in the library so tests can run the
//! CLI in-process.

fn main() -> std::process::ExitCode {
    kling_preflight::main_with_args(std::env::args_os())
}
