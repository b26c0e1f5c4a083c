//! Building a guest component for `wasm32-wasip2` with a nested `cargo build`: the build script
//! builds the connector this way, `bench` its `bench-guest/`, and the tests their
//! `test-guests/`. The build script includes this file by path, so it uses `std` only.

use std::path::Path;
use std::process::Command;

/// Variables meant for the host's own build that must not leak into a guest build (flags,
/// wrappers, a forced target or target directory, coverage instrumentation).
pub const HOST_ONLY_ENV: [&str; 9] = [
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_TARGET_DIR",
];

/// `cargo build --release --target wasm32-wasip2 --target-dir TARGET_DIR EXTRA…` run in `dir`
/// with the cargo that runs the caller and none of [`HOST_ONLY_ENV`]; the caller runs it.
pub fn command(dir: &Path, target_dir: &Path, extra: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(extra)
        .arg("--target-dir")
        .arg(target_dir)
        .stdin(std::process::Stdio::null());
    for var in HOST_ONLY_ENV {
        cmd.env_remove(var);
    }
    cmd
}
