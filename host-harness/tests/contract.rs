//! The contract's versions, Zed's way: every version the host runs has its own frozen WIT
//! folder, a released version's folder never changes, and a component built against the
//! oldest version still loads and runs (`tests/sandbox.rs` drives the 0.1.0 test guests).

use std::path::{Path, PathBuf};

use lifecycle_host::bindings::ContractVersion;
use sha2::{Digest, Sha256};

fn wit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

/// SHA-256 over a folder's `.wit` files, by name order: name, NUL, content, NUL.
fn digest(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.file_name().unwrap().as_encoded_bytes());
        hash.update([0]);
        hash.update(std::fs::read(&file).unwrap());
        hash.update([0]);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_version_the_host_runs_has_its_own_wit_folder() {
    for version in ContractVersion::ALL {
        let dir = wit().join(format!("since_v{version}"));
        let world = std::fs::read_to_string(dir.join("world.wit"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert!(
            world.contains(&format!("package lifecycle:connector@{version};")),
            "{} declares another version",
            dir.display()
        );
    }
}

#[test]
fn the_released_contract_0_1_0_is_frozen() {
    // A change here breaks every component built against 0.1.0: add a new version instead.
    assert_eq!(
        digest(&wit().join("since_v0.1.0")),
        "ee596bfb7676a4138364bf5150a63826990a3b190acbc726a987fc9c1e1921e7",
        "wit/since_v0.1.0 changed"
    );
}
