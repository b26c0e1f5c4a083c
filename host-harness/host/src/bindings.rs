//! Host-side bindings of the `lifecycle:connector@0.1.0` world, generated from `wit/`.
//!
//! The generated types derive `Serialize` with their Rust case names (`UpdateUser`); the host
//! writes JSON through [`crate::json`], which spells every case as the WIT does
//! (`update-user`). They do not derive `Deserialize`: the host reads back only its own
//! records (audit log, batch journal), never a contract value.

mod generated {
    // The generated glue (world, linker functions, accessors) carries no docs of its own; the
    // types carry the WIT's docs.
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../../wit/since_v0.1.0",
        world: "connector",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, PartialEq],
    });
}

pub use generated::lifecycle::connector::http_client;
pub use generated::lifecycle::connector::types;
pub use generated::*;
