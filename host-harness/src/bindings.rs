//! Host-side bindings of the `lifecycle:connector@0.1.0` world, generated from `wit/`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "connector",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use lifecycle::connector::http_client;
pub use lifecycle::connector::types;
