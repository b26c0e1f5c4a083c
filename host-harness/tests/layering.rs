//! No code imports upward: the CLI sits on the platform stand-in, which sits on the host
//! library; the conformance suite (its own crate) depends on the host library and the
//! simulator only. A source line that names a layer above its own fails here, with its place.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `text` holds `path` as a whole path (`crate::cli` but not `crate::client`).
fn holds(text: &str, path: &str) -> bool {
    text.match_indices(path).any(|(at, _)| {
        !text[at + path.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

/// Where `text` (the file `place`) names one of the `forbidden` module paths.
fn offences(place: &str, text: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for path in forbidden.iter().filter(|p| holds(line, p)) {
            found.push(format!("{place}:{}: {path}: {}", i + 1, line.trim()));
        }
    }
    // `use crate::{cli, …};` names a module without writing the path `crate::cli`.
    for (at, _) in text.match_indices("crate::{") {
        let group = &text[at..];
        let group = &group[..group.find(';').unwrap_or(group.len())];
        let line = text[..at].lines().count() + 1;
        for path in forbidden {
            let module = path.trim_start_matches("crate::");
            let names_it = group
                .split([',', '{'])
                .map(|w| w.trim().trim_end_matches('}').trim())
                .any(|w| w.split("::").next() == Some(module));
            if names_it {
                found.push(format!("{place}:{line}: {path} (in a `use crate::{{…}}`)"));
            }
        }
    }
    found
}

/// The offences of the files under `dir` (but not under `except`).
fn upward(dir: &Path, except: Option<&Path>, forbidden: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    sources(dir, &mut files);
    let mut found = Vec::new();
    for file in files {
        if except.is_some_and(|e| file.starts_with(e)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let place = file
            .strip_prefix(src())
            .unwrap_or(&file)
            .display()
            .to_string();
        found.extend(offences(&place, &text, forbidden));
    }
    found
}

#[test]
fn nothing_outside_the_cli_imports_it() {
    let found = upward(&src(), Some(&src().join("cli")), &["crate::cli"]);
    assert!(
        found.is_empty(),
        "imports of the CLI from below it:\n{}",
        found.join("\n")
    );
}

/// The conformance suite is a crate over the host library and the simulator only: its
/// manifest names no other crate of this workspace (the harness least of all, which hands it
/// its platform side through `lifecycle_conformance::Platform`).
#[test]
fn the_conformance_suite_depends_on_the_host_and_the_simulator_only() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("path ="))
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .collect();
    assert_eq!(ours, ["lifecycle-host", "atlassian-simulator"], "{text}");
}

#[test]
fn the_scan_sees_every_spelling_of_an_upward_import() {
    let cli = ["crate::cli"];
    for text in [
        "use crate::cli::outcome::parse_user_ref;",
        "    crate::cli::health::render(x)",
        "use crate::{audit, cli};",
        "use crate::{\n    audit::AuditLog,\n    cli::target,\n};",
    ] {
        assert_eq!(offences("f.rs", text, &cli).len(), 1, "{text}");
    }
    for text in [
        "use crate::client;",
        "use crate::{audit, clients};",
        "// cli",
    ] {
        assert!(offences("f.rs", text, &cli).is_empty(), "{text}");
    }
}
