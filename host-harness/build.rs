//! Builds the connector component (the workspace's root package) for `wasm32-wasip2` with a
//! nested `cargo build`, in a target directory of its own, so that `cargo test` and
//! `cargo run` need no manual step first. The pattern of wasmtime's `test-programs`.

use std::env;
use std::path::PathBuf;

#[path = "src/guest_build.rs"]
#[allow(dead_code)] // `test_guest` is for the tests.
mod guest_build;

#[path = "build/compose.rs"]
mod compose;

#[path = "build/optimize.rs"]
mod optimize;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host-harness lives inside the workspace")
        .to_path_buf();
    // The connector, the guest SDK it is built on, the contract, and the manifests.
    for path in [
        "src",
        "guest/sdk",
        "guest/http-adapter",
        "guest/http-front",
        "guest/platform-wit",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }

    // <target>/<profile>/build/host-harness-<hash>/out → <target>/connector-wasm, shared by
    // every profile and by clippy, so the guest is compiled once.
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|target| target.join("connector-wasm"))
        .unwrap_or_else(|| out_dir.join("connector-wasm"));

    // `bench` builds `bench-guest/` on demand into <target>/bench-guest, next to this.
    let bench_guest_dir = target_dir.with_file_name("bench-guest");
    println!(
        "cargo:rustc-env=BENCH_GUEST_TARGET_DIR={}",
        bench_guest_dir.display()
    );

    // A toolchain installed before this checkout lacks the guest target: add it (one line
    // says so) or stop with one line saying the command to run.
    match guest_build::ensure_target() {
        Ok(guest_build::TargetSetup::Present) => {}
        Ok(guest_build::TargetSetup::Installed(toolchain)) => println!(
            "cargo:warning=installed the {} target for {toolchain} (rustup target add)",
            guest_build::GUEST_TARGET
        ),
        Err(message) => {
            eprintln!("error: {message}");
            println!("cargo:warning={message}");
            std::process::exit(1);
        }
    }

    let mut cmd = guest_build::command(&root, &target_dir, &["--package", "atlassian-connector"]);
    let status = cmd
        .status()
        .expect("failed to run cargo for the connector component");
    assert!(
        status.success(),
        "building the connector component for wasm32-wasip2 failed"
    );

    let wasm = target_dir.join("wasm32-wasip2/release/atlassian_connector.wasm");
    assert!(
        wasm.is_file(),
        "the connector build produced no {}",
        wasm.display()
    );
    // What ships (and what the harness embeds) is the component without its component-level
    // debug names and with its core module through `wasm-opt -Oz`; written in place, so the
    // file the docs name is the one that ships. A fresh link always carries the names, so
    // their absence says the file is already the shipped one (and is not optimized twice).
    let built = std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let stripped = guest_build::without_component_names(&built);
    if stripped.len() != built.len() {
        let shipped =
            guest_build::map_core_modules(&stripped, optimize::MIN_MODULE_BYTES, |module| {
                optimize::core_module(module, &out_dir)
            })
            .unwrap_or_else(|e| panic!("optimizing {} failed: {e}", wasm.display()));
        std::fs::write(&wasm, &shipped).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    }
    println!("cargo:rerun-if-changed={}", wasm.display());
    println!("cargo:rustc-env=CONNECTOR_WASM={}", wasm.display());

    // The platform path: the adapter and the front, built in a cargo run of their own (so the
    // plain connector's build above stays exactly what it was), then composed with the
    // connector into one `wasi:http/proxy` component written next to it.
    let mut cmd = guest_build::command(
        &root,
        &target_dir,
        &[
            "--package",
            "lifecycle-http-adapter",
            "--package",
            "lifecycle-http-front",
        ],
    );
    let status = cmd
        .status()
        .expect("failed to run cargo for the adapter and front components");
    assert!(
        status.success(),
        "building the adapter and front components for wasm32-wasip2 failed"
    );
    let release = target_dir.join("wasm32-wasip2/release");
    let composed = compose::compose(
        &wasm,
        &release.join("lifecycle_http_adapter.wasm"),
        &release.join("lifecycle_http_front.wasm"),
    )
    .unwrap_or_else(|e| panic!("composing the wasi:http component failed: {e}"));
    let composed_path = release.join("atlassian_connector_http.wasm");
    std::fs::write(&composed_path, composed)
        .unwrap_or_else(|e| panic!("{}: {e}", composed_path.display()));
    println!(
        "cargo:rustc-env=CONNECTOR_HTTP_WASM={}",
        composed_path.display()
    );
}
