//! The connector's core module through Binaryen's `wasm-opt -Oz` (the `wasm-opt` crate, which
//! builds Binaryen from source the first time): rustc's `opt-level = "z"` with LTO leaves
//! ~15 % that Binaryen's whole-module passes (code folding, local coalescing, duplicate
//! function elimination) remove. Only the component's big core module is rewritten; its
//! imports and exports, and so the component around it, stay as they were. The build script
//! includes this file by path.

use std::path::Path;

use wasm_opt::{Feature, OptimizationOptions};

/// Core modules smaller than this (the component's table shims) are left as they are.
pub const MIN_MODULE_BYTES: usize = 64 * 1024;

/// The WebAssembly features rustc enables for `wasm32-wasip2` (the stripped module carries no
/// `target_features` section for Binaryen to read them from).
const FEATURES: [Feature; 6] = [
    Feature::SignExt,
    Feature::MutableGlobals,
    Feature::TruncSat,
    Feature::BulkMemory,
    Feature::ReferenceTypes,
    Feature::Multivalue,
];

/// `module` (a core module's bytes) optimized for size; `scratch` is a directory for the two
/// files Binaryen reads and writes.
pub fn core_module(module: &[u8], scratch: &Path) -> Result<Vec<u8>, String> {
    let input = scratch.join("connector-core.wasm");
    let output = scratch.join("connector-core.opt.wasm");
    std::fs::write(&input, module).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut options = OptimizationOptions::new_optimize_for_size_aggressively();
    // Again while the module shrinks: each round's folding leaves the next some to do.
    options.set_converge();
    for feature in FEATURES {
        options.enable_feature(feature);
    }
    options
        .run(&input, &output)
        .map_err(|e| format!("wasm-opt: {e}"))?;
    std::fs::read(&output).map_err(|e| format!("{}: {e}", output.display()))
}
