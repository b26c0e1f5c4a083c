//! The deployment files (`deploy/spin.toml`, `deploy/wasmcloud.yaml`) as far as this machine
//! can check them without Spin or wasmCloud: they parse, they name the files the build writes,
//! every interface they wire is one the components really import and export, the Spin
//! variables cover the connector's configuration schema, and only the adapter inherits
//! configuration. And the composed component itself: it exports only
//! `wasi:http/incoming-handler` and imports no `lifecycle:*` interface (all wired inside).

use std::collections::BTreeSet;
use std::path::Path;

/// The contract's interface of types only, which every component of ours imports.
const TYPES: &str = "lifecycle:connector/types@0.2.0";

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()
}

/// The built component next to the composed one, by file name.
fn built(file: &str) -> std::path::PathBuf {
    Path::new(env!("CONNECTOR_HTTP_WASM")).with_file_name(file)
}

/// The names a component imports and exports (its own, not those of nested components).
fn names(path: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    use wasmparser::{Parser, Payload};
    let bytes = std::fs::read(path).unwrap();
    let (mut imports, mut exports) = (BTreeSet::new(), BTreeSet::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.unwrap() {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(s) if depth == 0 => {
                for import in s {
                    imports.insert(import.unwrap().name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(s) if depth == 0 => {
                for export in s {
                    exports.insert(export.unwrap().name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

#[test]
fn the_composed_component_is_a_wasi_http_proxy_with_everything_of_ours_wired_inside() {
    let (imports, exports) = names(Path::new(env!("CONNECTOR_HTTP_WASM")));
    assert_eq!(
        exports.into_iter().collect::<Vec<_>>(),
        ["wasi:http/incoming-handler@0.2.12"]
    );
    assert!(
        imports.contains("wasi:http/outgoing-handler@0.2.12"),
        "{imports:?}"
    );
    assert!(
        imports.contains("wasi:config/store@0.2.0-rc.1"),
        "{imports:?}"
    );
    // The contract's `types` holds types only (no function): a host satisfies it with nothing.
    let ours: Vec<_> = imports
        .iter()
        .filter(|n| n.starts_with("lifecycle:") && *n != TYPES)
        .collect();
    assert!(ours.is_empty(), "left unwired: {ours:?}");
}

#[test]
fn spin_toml_wires_the_interfaces_the_components_have() {
    let manifest: toml::Table = read("deploy/spin.toml").parse().unwrap();
    assert_eq!(manifest["spin_manifest_version"].as_integer(), Some(2));
    let trigger = &manifest["trigger"]["http"].as_array().unwrap()[0];
    assert_eq!(trigger["route"].as_str(), Some("/v1/..."));
    let name = trigger["component"].as_str().unwrap();
    let component = &manifest["component"][name];
    assert_eq!(
        file_name(component["source"].as_str().unwrap()),
        "lifecycle_http_front.wasm"
    );
    let (front_imports, _) = names(&built("lifecycle_http_front.wasm"));
    let (connector_imports, _) = names(&built("atlassian_connector.wasm"));
    let deps = component["dependencies"].as_table().unwrap();
    let mut wired = BTreeSet::new();
    for (interface, dep) in deps {
        let file = file_name(dep["path"].as_str().unwrap());
        let (_, exports) = names(&built(file));
        assert!(
            exports.contains(interface),
            "{file} does not export {interface}"
        );
        assert!(
            front_imports.contains(interface) || connector_imports.contains(interface),
            "nothing imports {interface}"
        );
        let inherits = dep["inherit_configuration"].as_bool().unwrap();
        assert_eq!(
            inherits,
            file == "lifecycle_http_adapter.wasm",
            "{file}: only the adapter inherits configuration"
        );
        wired.insert(interface.clone());
    }
    for import in front_imports.iter().chain(&connector_imports) {
        if import.starts_with("lifecycle:") && import != TYPES {
            assert!(wired.contains(import), "{import} is not wired");
        }
    }
    // Every key of the connector's schema is a variable, secrets marked secret.
    let variables = manifest["variables"].as_table().unwrap();
    let passed = component["variables"].as_table().unwrap();
    for key in atlassian_connector::config::KEYS {
        let var = variables
            .get(key.key)
            .unwrap_or_else(|| panic!("no variable {}", key.key));
        let secret = matches!(key.kind, atlassian_connector::model::ConfigKind::Secret);
        assert_eq!(
            var.get("secret")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false),
            secret,
            "{}",
            key.key
        );
        assert_eq!(
            passed.get(key.key).and_then(toml::Value::as_str),
            Some(format!("{{{{ {} }}}}", key.key).as_str())
        );
    }
    assert!(
        !component["allowed_outbound_hosts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_wasmcloud_manifest_links_the_composed_component_to_http() {
    let docs = yaml_rust2::YamlLoader::load_from_str(&read("deploy/wasmcloud.yaml")).unwrap();
    let app = &docs[0];
    assert_eq!(app["kind"].as_str(), Some("Application"));
    let components = app["spec"]["components"].as_vec().unwrap();
    let lifecycle = components
        .iter()
        .find(|c| c["type"].as_str() == Some("component"))
        .unwrap();
    assert_eq!(
        file_name(lifecycle["properties"]["image"].as_str().unwrap()),
        "atlassian_connector_http.wasm"
    );
    let (imports, exports) = names(Path::new(env!("CONNECTOR_HTTP_WASM")));
    let links = components
        .iter()
        .flat_map(|c| c["traits"].as_vec().into_iter().flatten())
        .filter(|t| t["type"].as_str() == Some("link"));
    let mut seen = Vec::new();
    for link in links {
        let p = &link["properties"];
        for interface in p["interfaces"].as_vec().unwrap() {
            let name = format!(
                "{}:{}/{}@0.2.12",
                p["namespace"].as_str().unwrap(),
                p["package"].as_str().unwrap(),
                interface.as_str().unwrap()
            );
            assert!(
                imports.contains(&name) || exports.contains(&name),
                "the component has no {name}"
            );
            seen.push(name);
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "wasi:http/incoming-handler@0.2.12",
            "wasi:http/outgoing-handler@0.2.12"
        ]
    );
    let config = lifecycle["properties"]["config"].as_vec().unwrap();
    assert!(!config.is_empty());
}
