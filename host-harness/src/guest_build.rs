//! Building a guest component for `wasm32-wasip2` with a nested `cargo build`: the build script
//! builds the connector this way, `bench` its `bench-guest/`, and the tests their
//! `test-guests/`. The build script includes this file by path, so it uses `std` only.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target every guest is built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

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
        .args(["build", "--release", "--target", GUEST_TARGET])
        .args(extra)
        .arg("--target-dir")
        .arg(target_dir)
        .stdin(Stdio::null());
    for var in HOST_ONLY_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// What [`ensure_target`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum TargetSetup {
    /// The toolchain already had the target's standard library.
    Present,
    /// The target was missing and `rustup target add` installed it; the string names the
    /// toolchain it was added to.
    Installed(String),
}

/// Makes sure the toolchain that runs this build has the `wasm32-wasip2` standard library.
///
/// rustup installs a `rust-toolchain.toml`'s targets only when it installs the toolchain
/// itself: on a machine that already had the pinned toolchain, the target is missing and the
/// nested guest build would fail deep inside with "can't find crate for `std`". This looks for
/// the target's library in the sysroot of `rustc` (the `RUSTC` cargo hands a build script, or
/// `rustc` on the path) and, when it is missing, runs `rustup target add wasm32-wasip2` for
/// the active toolchain (`RUSTUP_TOOLCHAIN`, which rustup sets for the processes it starts).
/// Without rustup the error is one line saying what to install.
pub fn ensure_target() -> Result<TargetSetup, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let sysroot = sysroot(&rustc)?;
    if has_target(&sysroot) {
        return Ok(TargetSetup::Present);
    }
    let toolchain = std::env::var("RUSTUP_TOOLCHAIN").ok();
    let shown = toolchain
        .clone()
        .unwrap_or_else(|| "the active toolchain".into());
    let manual = match &toolchain {
        Some(name) => format!("rustup target add {GUEST_TARGET} --toolchain {name}"),
        None => format!("rustup target add {GUEST_TARGET}"),
    };
    let mut add = Command::new("rustup");
    add.args(["target", "add", GUEST_TARGET]);
    if let Some(name) = &toolchain {
        add.args(["--toolchain", name]);
    }
    let status = add
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status();
    match status {
        Ok(status) if status.success() && has_target(&sysroot) => Ok(TargetSetup::Installed(shown)),
        Ok(_) => Err(format!(
            "the {GUEST_TARGET} target is missing from {shown} and `rustup target add` failed: run `{manual}`"
        )),
        Err(_) => Err(format!(
            "the {GUEST_TARGET} target is missing from {shown} (at {}) and rustup is not on the path: \
             install the target's standard library for this toolchain (with rustup: `{manual}`)",
            sysroot.display()
        )),
    }
}

fn sysroot(rustc: &OsString) -> Result<PathBuf, String> {
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "could not run {} --print sysroot: {e}",
                rustc.to_string_lossy()
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "{} --print sysroot failed",
            rustc.to_string_lossy()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(PathBuf::from(text.trim()))
}

fn has_target(sysroot: &Path) -> bool {
    sysroot
        .join("lib/rustlib")
        .join(GUEST_TARGET)
        .join("lib")
        .is_dir()
}

/// Builds the hostile test guest (`test-guests/` in the workspace at `workspace`) for
/// `wasm32-wasip2` into `workspace/target/test-guests` with the cargo that runs the caller, and
/// returns the component's path. For tests: the guest misbehaves on request (spins, grows
/// memory, panics, reports what it can see) and answers every action with `unsupported`.
pub fn test_guest(workspace: &Path) -> Result<PathBuf, String> {
    let target = workspace.join("target/test-guests");
    let status = command(&workspace.join("test-guests"), &target, &[])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building test-guests failed: {status}"));
    }
    Ok(target.join("wasm32-wasip2/release/test_guests.wasm"))
}

/// A component's header: `\0asm`, then a component's version and layer (0x0d 0x00 0x01 0x00).
const COMPONENT_HEADER: &[u8] = b"\0asm\x0d\x00\x01\x00";

/// A LEB128 u32 at `at`: its value and the position after it.
fn leb(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let (mut value, mut shift) = (0usize, 0u32);
    loop {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some((value, at));
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

/// `value` as an unsigned LEB128.
fn write_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The top-level sections of a component: each one's id and payload. `None` when `component`
/// does not parse as a component's sections.
fn sections(component: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    if component.get(..8)? != COMPONENT_HEADER {
        return None;
    }
    let mut all = Vec::new();
    let mut at = 8;
    while at < component.len() {
        let id = component[at];
        let (size, body) = leb(component, at + 1)?;
        let end = body.checked_add(size)?;
        all.push((id, component.get(body..end)?));
        at = end;
    }
    Some(all)
}

/// The component made of `sections` (id, payload), in order.
fn assemble(sections: &[(u8, std::borrow::Cow<'_, [u8]>)]) -> Vec<u8> {
    let mut out = COMPONENT_HEADER.to_vec();
    for (id, payload) in sections {
        out.push(*id);
        write_leb(&mut out, payload.len());
        out.extend_from_slice(payload);
    }
    out
}

/// `component` without its top-level `component-name` custom section: the names of the
/// component-level items (instances, aliases, types), which nothing reads at run time (the
/// core modules' own names are already stripped by the release profile) and which cost ~6 KB
/// of the connector's size budget. Anything that does not parse as a component's sections is
/// returned unchanged.
pub fn without_component_names(component: &[u8]) -> Vec<u8> {
    /// The section's name, as a custom section's payload starts with it.
    const NAME: &[u8] = b"component-name";
    let Some(all) = sections(component) else {
        return component.to_vec();
    };
    let kept: Vec<_> = all
        .into_iter()
        .filter(|(id, payload)| {
            !(*id == 0 && leb(payload, 0).is_some_and(|(n, s)| payload.get(s..s + n) == Some(NAME)))
        })
        .map(|(id, payload)| (id, std::borrow::Cow::Borrowed(payload)))
        .collect();
    assemble(&kept)
}

/// `component` with each top-level core module of at least `min_len` bytes replaced by what
/// `rewrite` makes of it (the build's size optimizer): the component's other sections, and so
/// its imports, exports and the way it instantiates its modules, stay as they were, which
/// holds as long as `rewrite` keeps the module's imports and exports. An error when
/// `component` does not parse as a component, or when `rewrite` fails.
pub fn map_core_modules(
    component: &[u8],
    min_len: usize,
    mut rewrite: impl FnMut(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    /// A core module's section id inside a component.
    const CORE_MODULE: u8 = 1;
    let all = sections(component).ok_or("not a component's sections")?;
    let mut out = Vec::with_capacity(all.len());
    for (id, payload) in all {
        if id == CORE_MODULE && payload.len() >= min_len {
            out.push((id, std::borrow::Cow::Owned(rewrite(payload)?)));
        } else {
            out.push((id, std::borrow::Cow::Borrowed(payload)));
        }
    }
    Ok(assemble(&out))
}
