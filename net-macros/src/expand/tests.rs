//! The expansion of the chapter's two-layer net, pinned: a change to what
//! the macro emits shows in review as a diff of
//! `tests/expansion/two_layer_net.expanded.rs`. After a deliberate change,
//! regenerate it with `UPDATE_EXPANSION=1 cargo test -p net-macros`.

use std::path::Path;

use crate::ast::NetworkDecl;

const TWO_LAYER_NET: &str =
    "pub struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>";

/// `source` expanded and printed as Rust.
fn expanded(source: &str) -> String {
    let decl: NetworkDecl = syn::parse_str(source).expect("the declaration parses");
    let file: syn::File = syn::parse2(super::expand(&decl)).expect("the expansion is Rust items");
    prettyplease::unparse(&file)
}

#[test]
fn two_layer_net_expands_as_pinned() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expansion/two_layer_net.expanded.rs");
    let actual = expanded(TWO_LAYER_NET);
    if std::env::var_os("UPDATE_EXPANSION").is_some() {
        std::fs::write(&path, &actual).expect("the snapshot is writable");
        return;
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != pinned {
        let first_difference = actual
            .lines()
            .zip(pinned.lines())
            .position(|(a, p)| a != p)
            .unwrap_or_else(|| actual.lines().count().min(pinned.lines().count()));
        panic!(
            "the expansion of `{TWO_LAYER_NET}` differs from {} from line {}: \
             review the change, then regenerate with UPDATE_EXPANSION=1",
            path.display(),
            first_difference + 1
        );
    }
}

#[test]
fn a_declaration_with_errors_expands_to_its_fallback() {
    let text =
        expanded_with_errors("pub struct Broken<Affine<784, 50>, Affine<60, 10>, SoftmaxWithLoss>");
    assert!(text.contains("compile_error"), "{text}");
    assert!(text.contains("was declared with errors"), "{text}");
    // The fallback spells the same methods as a valid network's impl.
    for method in [
        "fn init",
        "fn forward",
        "fn forward_loss",
        "fn scores",
        "fn backward",
        "fn visit_params_mut",
    ] {
        assert!(text.contains(method), "{method} missing from {text}");
    }
}

/// `source`, which has errors, expanded as tokens (a `compile_error!` is
/// not an item `syn` prints).
fn expanded_with_errors(source: &str) -> String {
    let decl: NetworkDecl = syn::parse_str(source).expect("the declaration parses");
    super::expand(&decl).to_string()
}
