//! The README and `docs/` stay true to the tree: the README's architecture is one screen naming
//! every crate, `docs/architecture.md` names every module that exists, the README links every
//! page of `docs/` exactly once and gives the two set-up commands, and no relative link in the
//! README or `docs/` points at a file that does not exist.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-harness sits in the workspace")
        .to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The module names under `dir`: each file's stem, and `name/` for a directory's `mod.rs`.
fn modules(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            modules(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            out.push(if stem == "mod" {
                let dir = path.parent().unwrap().file_name().unwrap();
                format!("{}/", dir.to_str().unwrap())
            } else {
                stem.to_owned()
            });
        }
    }
}

/// The text of the README section that starts with `heading`, up to the next `## `.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("the README has no `{heading}` section"));
    let rest = &readme[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// Relative link targets of a markdown text: `](target)` without a scheme, anchor removed.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|s| s.split_once(')').map(|(target, _)| target))
        .filter(|t| !t.contains("://") && !t.starts_with('#') && !t.starts_with("mailto:"))
        .map(|t| t.split('#').next().unwrap_or(t).to_owned())
        .collect()
}

#[test]
fn the_module_map_names_every_module() {
    let map = read(&root().join("docs/architecture.md"));
    let (connector, host) = map
        .split_once("**The host**")
        .expect("the module map describes the guest side, then the host side");
    let mut missing = Vec::new();
    for (text, dir) in [
        (connector, "src"),
        (connector, "guest/sdk/src"),
        (connector, "guest/generic-scim/src"),
        (host, "host-harness/host/src"),
        (host, "host-harness/src"),
        (host, "host-harness/simulator/src"),
        (host, "host-harness/conformance/src"),
    ] {
        let mut names = Vec::new();
        modules(&root().join(dir), &mut names);
        for name in names {
            if !text.contains(&format!("`{name}`")) {
                missing.push(format!("{dir}: `{name}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name these modules: {missing:?}"
    );
}

#[test]
fn the_readme_architecture_is_one_screen_naming_every_crate() {
    let readme = read(&root().join("README.md"));
    let architecture = section(&readme, "## Architecture");
    let lines = architecture.lines().count();
    assert!(
        lines <= 40,
        "the architecture section is {lines} lines, more than a screen"
    );
    for dir in [
        "wit/",
        "guest/sdk/",
        "src/",
        "host-harness/host/",
        "host-harness/simulator/",
        "host-harness/conformance/",
        "host-harness/src/",
    ] {
        assert!(
            architecture.contains(&format!("`{dir}")),
            "the architecture omits {dir}"
        );
    }
    assert!(architecture.contains("](docs/architecture.md)"));
}

#[test]
fn the_readme_links_every_docs_page_once_and_gives_the_two_commands() {
    let readme = read(&root().join("README.md"));
    let mut pages: Vec<_> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".md"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty());
    let links = relative_links(&readme);
    for page in &pages {
        let target = format!("docs/{page}");
        let count = links.iter().filter(|l| **l == target).count();
        assert_eq!(count, 1, "the README links {target} {count} times");
    }
    let setup = section(&readme, "## Set-up: two commands");
    for command in [
        "cargo run -p host-harness -- demo",
        "cargo test --workspace",
    ] {
        assert!(
            setup.contains(command),
            "the set-up section lacks `{command}`"
        );
    }
}

#[test]
fn relative_links_in_the_readme_and_docs_resolve() {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        files.push(entry.unwrap().path());
    }
    let mut broken = Vec::new();
    for file in files {
        let dir = file.parent().unwrap();
        for link in relative_links(&read(&file)) {
            if !link.is_empty() && !dir.join(&link).exists() {
                broken.push(format!("{}: {link}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:?}");
}
