//! Atlassian Cloud identity lifecycle connector (skeleton, filled in by the foundation work).

#[cfg(target_arch = "wasm32")]
mod glue {
    wit_bindgen::generate!({ path: "wit", world: "connector" });
    use exports::lifecycle::connector::lifecycle::Guest;
    use lifecycle::connector::types::*;

    struct Component;

    fn unsupported<T>() -> Result<T, ConnectorError> {
        Err(ConnectorError::Unsupported("not built yet".into()))
    }

    impl Guest for Component {
        fn describe() -> ConnectorInfo {
            ConnectorInfo {
                name: "atlassian-cloud".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                contract_version: "0.1.0".into(),
                capabilities: vec![],
                config_schema: vec![],
            }
        }
        fn check_health(_: Config) -> Result<HealthReport, ConnectorError> {
            unsupported()
        }
        fn sync_identity(
            _: Config,
            _: Identity,
            _: SyncOptions,
        ) -> Result<Outcome, ConnectorError> {
            unsupported()
        }
        fn manage_relationships(
            _: Config,
            _: UserRef,
            _: Vec<String>,
            _: Vec<String>,
            _: ActionOptions,
        ) -> Result<Outcome, ConnectorError> {
            unsupported()
        }
        fn deprovision_identity(
            _: Config,
            _: UserRef,
            _: ActionOptions,
        ) -> Result<Outcome, ConnectorError> {
            unsupported()
        }
        fn delete_identity(
            _: Config,
            _: UserRef,
            _: DeleteOptions,
        ) -> Result<Outcome, ConnectorError> {
            unsupported()
        }
        fn list_users(_: Config, _: PageRequest) -> Result<UserPage, ConnectorError> {
            unsupported()
        }
        fn list_groups(_: Config, _: PageRequest) -> Result<GroupPage, ConnectorError> {
            unsupported()
        }
        fn list_resources(
            _: Config,
            _: ResourceKind,
            _: PageRequest,
        ) -> Result<ResourcePage, ConnectorError> {
            unsupported()
        }
    }
    export!(Component);
}
