//! The diagrams in `docs/` and the summary in the README, regenerated from
//! the library: a test fails when a committed file differs from what the
//! code draws now. After a deliberate change, rewrite them with
//! `UPDATE_DIAGRAMS=1 cargo test --test diagrams`.

use std::path::Path;

use staticnet::diagram::network_svg;
use staticnet::prelude::*;

#[path = "../examples/buy_apple.rs"]
#[allow(dead_code)]
mod buy_apple;
#[path = "../examples/buy_apple_orange.rs"]
#[allow(dead_code)]
mod buy_apple_orange;
#[path = "../examples/convnets/nets.rs"]
mod nets;
#[path = "../examples/common/residual_nets.rs"]
mod residual_nets;
#[path = "../examples/common/two_layer_nets.rs"]
#[allow(dead_code)]
mod two_layer_nets;

/// Compares `actual` with the committed `path` (from the repository's
/// root), or rewrites it under `UPDATE_DIAGRAMS`.
fn pinned(path: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("UPDATE_DIAGRAMS").is_some() {
        std::fs::write(&path, actual).expect("the file is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == actual,
        "{} differs from what the library draws: review the change, then regenerate with UPDATE_DIAGRAMS=1",
        path.display()
    );
}

#[test]
fn network_diagrams_are_current() {
    let two_layer = two_layer_nets::TwoLayerNet::<f32>::with_widths(
        &mut StdRng::seed_from_u64(0),
        Init::He,
        [50],
    )
    .expect("a width of 50");
    pinned(
        "docs/two_layer_net.svg",
        &network_svg(&two_layer.built_summary()),
    );
    pinned(
        "docs/simple_convnet.svg",
        &network_svg(&nets::SimpleConvNet::summary()),
    );
    pinned(
        "docs/deep_convnet.svg",
        &network_svg(&nets::DeepConvNet::summary()),
    );
    pinned(
        "docs/residual_mlp.svg",
        &network_svg(&residual_nets::ResidualMlp::summary()),
    );
}

#[test]
fn computational_graphs_are_current() {
    pinned("docs/buy_apple.svg", &buy_apple::run().2.to_svg());
    pinned(
        "docs/buy_apple_orange.svg",
        &buy_apple_orange::run().2.to_svg(),
    );
}

#[test]
fn the_readme_shows_the_current_summary() {
    network! {
        pub struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let table = TwoLayerNet::summary().to_string();
    assert!(
        readme.contains(&format!("```text\n{table}\n```")),
        "the README's summary of TwoLayerNet is not what `TwoLayerNet::summary()` prints:\n{table}"
    );
}
