//! Host-side bindings of the `lifecycle:connector@0.1.0` world, generated from `wit/`.
//!
//! The generated types derive `Serialize` with their Rust case names (`UpdateUser`); the host
//! writes JSON through [`crate::json`], which spells every case as the WIT does
//! (`update-user`). They do not derive `Deserialize`: the host reads back only its own
//! records (audit log, batch journal), never a contract value.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.1.0",
    world: "connector",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [serde::Serialize, PartialEq],
});

pub use lifecycle::connector::http_client;
pub use lifecycle::connector::types;
