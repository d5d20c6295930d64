//! The `kling-preflight` binary: everything lives in the library so tests can run the
//! CLI in-process.

/// mimalloc rather than the system allocator: the mock allocates on every request and
/// the linter on every file, and glibc's malloc cost a sixth of the mock's CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kling_preflight::main_with_args(std::env::args_os())
}
