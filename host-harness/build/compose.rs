//! Composes the connector with the platform adapter and front (`guest/http-adapter`,
//! `guest/http-front`) into one `wasi:http/proxy` component, with `wac-graph`: the adapter's
//! `http-client` export satisfies the connector's import, the connector's `lifecycle` export
//! and the adapter's `tenant` export satisfy the front's imports, and the front's
//! `incoming-handler` is the composition's export. What is left (the `wasi:*` imports of all
//! three, `wasi:config/store` and `wasi:http/outgoing-handler` among them) becomes the
//! composition's imports, each once. The build script includes this file by path.

use std::path::Path;

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// The contract interfaces wired inside the composition.
const HTTP_CLIENT: &str = "lifecycle:connector/http-client@0.2.0";
const LIFECYCLE: &str = "lifecycle:connector/lifecycle@0.2.0";
const TENANT: &str = "lifecycle:platform/tenant@0.1.0";
/// The composition's one export.
pub const INCOMING_HANDLER: &str = "wasi:http/incoming-handler@0.2.12";

/// The composed component's bytes, from the three built components.
pub fn compose(connector: &Path, adapter: &Path, front: &Path) -> Result<Vec<u8>, String> {
    let mut graph = CompositionGraph::new();
    let mut register = |name: &str, path: &Path| {
        let package = Package::from_file(name, None, path, graph.types_mut())
            .map_err(|e| format!("{}: {e:#}", path.display()))?;
        graph
            .register_package(package)
            .map_err(|e| format!("registering {name}: {e}"))
    };
    let connector = register("lifecycle:connector-component", connector)?;
    let adapter = register("lifecycle:http-adapter", adapter)?;
    let front = register("lifecycle:http-front", front)?;

    let adapter = graph.instantiate(adapter);
    let connector = graph.instantiate(connector);
    let front = graph.instantiate(front);
    let wire = |graph: &mut CompositionGraph, from, to, name: &str| {
        let export = graph
            .alias_instance_export(from, name)
            .map_err(|e| format!("export {name}: {e}"))?;
        graph
            .set_instantiation_argument(to, name, export)
            .map_err(|e| format!("import {name}: {e}"))
    };
    wire(&mut graph, adapter, connector, HTTP_CLIENT)?;
    wire(&mut graph, adapter, front, TENANT)?;
    wire(&mut graph, connector, front, LIFECYCLE)?;
    let handler = graph
        .alias_instance_export(front, INCOMING_HANDLER)
        .map_err(|e| format!("export {INCOMING_HANDLER}: {e}"))?;
    graph
        .export(handler, INCOMING_HANDLER)
        .map_err(|e| format!("exporting {INCOMING_HANDLER}: {e}"))?;
    graph
        .encode(EncodeOptions::default())
        .map_err(|e| format!("encoding the composition: {e:#}"))
}
