//! The current contract, `lifecycle:connector@0.2.0` (`wit/since_v0.2.0/`).

mod generated {
    // The generated glue (world, linker functions, accessors) carries no docs of its own; the
    // types carry the WIT's docs.
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../../wit/since_v0.2.0",
        world: "connector",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, PartialEq],
    });
}

pub use generated::lifecycle::connector::http_client;
pub use generated::lifecycle::connector::types;
pub use generated::*;

use types::{GroupRecord, NamespacedId, ResolvedUser, UserRecord};

/// The value of the first id in `namespace`.
pub fn id_in<'a>(ids: &'a [NamespacedId], namespace: &str) -> Option<&'a str> {
    ids.iter()
        .find(|i| i.namespace == namespace)
        .map(|i| i.value.as_str())
}

impl NamespacedId {
    /// An id in `namespace`.
    pub fn new(namespace: &str, value: impl Into<String>) -> Self {
        Self {
            namespace: namespace.to_owned(),
            value: value.into(),
        }
    }
}

impl ResolvedUser {
    /// The person's id in `namespace`, when they have one.
    pub fn id(&self, namespace: &str) -> Option<&str> {
        id_in(&self.ids, namespace)
    }
}

impl UserRecord {
    /// The user's id in `namespace`, when they have one.
    pub fn id(&self, namespace: &str) -> Option<&str> {
        id_in(&self.ids, namespace)
    }

    /// The directory's own id (the first), or `""` for a record that lists none.
    pub fn primary_id(&self) -> &str {
        self.ids.first().map_or("", |i| i.value.as_str())
    }
}

impl GroupRecord {
    /// The group's id in `namespace`, when it has one.
    pub fn id(&self, namespace: &str) -> Option<&str> {
        id_in(&self.ids, namespace)
    }
}
