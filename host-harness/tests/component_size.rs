//! The component-size budget, on the artifact that ships: the stripped release component that
//! `build.rs` builds and the harness embeds. A change that pushes it over fails here.

use std::path::Path;

/// The budget: 400 KB, counted as the README counts sizes (1 KB = 1,000 bytes; 489,337 bytes
/// is "490 KB" there), so 400,000 bytes, not 409,600.
const BUDGET_BYTES: u64 = 400_000;

#[test]
fn the_release_component_fits_the_400_kb_budget() {
    let path = Path::new(env!("CONNECTOR_WASM"));
    let size = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .len();
    // The bytes the harness embeds are that file: the budget is checked on what ships.
    assert_eq!(
        usize::try_from(size).ok(),
        Some(host_harness::component::BUILTIN.len()),
        "{} is not the component the harness embeds",
        path.display()
    );
    assert!(
        size <= BUDGET_BYTES,
        "the connector component is {size} bytes, {over} bytes over the budget of \
         {BUDGET_BYTES} bytes ({kb} KB, 1 KB = 1,000 bytes).\n\
         The artifact: {path} (release profile of the workspace's Cargo.toml: opt-level \"z\", \
         LTO, strip, panic = \"abort\"; built by host-harness/build.rs).\n\
         Where to look: `cargo run -p host-harness -- inspect` for the size and imports; an \
         unstripped build (`CARGO_PROFILE_RELEASE_STRIP=false`) and `twiggy top` or \
         `wasm-tools objdump` for what grew; usual causes are a new dependency, a derived \
         serde (De)Serialize (each derive brings its own visitor), float formatting, and \
         generics instantiated per type (the README's size notes say what each part costs).",
        over = size - BUDGET_BYTES,
        kb = BUDGET_BYTES / 1000,
        path = path.display(),
    );
}

/// The component-level debug names (~6 KB) do not ship; every other section does, in order.
#[test]
fn the_component_name_section_is_dropped_and_nothing_else() {
    let custom = |name: &str, body: &[u8]| {
        let mut payload = vec![u8::try_from(name.len()).unwrap()];
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(body);
        let mut section = vec![0, u8::try_from(payload.len()).unwrap()];
        section.extend(payload);
        section
    };
    let header = b"\0asm\x0d\x00\x01\x00".to_vec();
    let producers = custom("producers", b"xyz");
    let names = custom("component-name", b"\x00\x01a");
    let type_section = vec![7, 1, 0];
    let with: Vec<u8> = [&header[..], &producers, &names, &type_section].concat();
    let without: Vec<u8> = [&header[..], &producers, &type_section].concat();
    assert_eq!(
        host_harness::guest_build::without_component_names(&with),
        without
    );
    // Idempotent, and anything that is not a component comes back as it was.
    assert_eq!(
        host_harness::guest_build::without_component_names(&without),
        without
    );
    let module = b"\0asm\x01\x00\x00\x00\x00\x03\x01ab".to_vec();
    assert_eq!(
        host_harness::guest_build::without_component_names(&module),
        module
    );
    let torn = [&header[..], &[0, 9, 1]].concat();
    assert_eq!(
        host_harness::guest_build::without_component_names(&torn),
        torn
    );
    // What the harness embeds went through it.
    let builtin = host_harness::component::BUILTIN;
    assert_eq!(
        host_harness::guest_build::without_component_names(builtin),
        builtin
    );
}

/// The build's optimizer sees the big core modules only, and the component around them is
/// written back section by section, unchanged.
#[test]
fn only_big_core_modules_are_rewritten_and_the_rest_kept() {
    use host_harness::guest_build::map_core_modules;
    let header = b"\0asm\x0d\x00\x01\x00".to_vec();
    let small = [&[1u8, 3][..], b"abc"].concat();
    let big_body = vec![7u8; 200];
    let big = [&[1u8, 0xc8, 0x01][..], &big_body].concat();
    let type_section = vec![7, 1, 0];
    let component: Vec<u8> = [&header[..], &small, &big, &type_section].concat();
    let mut seen = Vec::new();
    let out = map_core_modules(&component, 100, |m| {
        seen.push(m.len());
        Ok(b"xy".to_vec())
    })
    .unwrap();
    assert_eq!(seen, [200]);
    let expected: Vec<u8> = [&header[..], &small, &[1, 2], b"xy", &type_section].concat();
    assert_eq!(out, expected);
    // Nothing to rewrite: the same bytes; an error from the optimizer or a torn component
    // is an error, never a silently unoptimized artifact.
    assert_eq!(
        map_core_modules(&component, 1000, |_| unreachable!()).unwrap(),
        component
    );
    assert!(map_core_modules(&component, 100, |_| Err("no".into())).is_err());
    let torn = [&header[..], &[1, 9, 1]].concat();
    assert!(map_core_modules(&torn, 0, |m| Ok(m.to_vec())).is_err());
}
