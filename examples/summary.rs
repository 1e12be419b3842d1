//! The summaries and diagrams of the book's nets, from their declarations
//! alone: for the two-layer net (its hidden width, chosen at run time, at
//! the book's 50), SimpleConvNet, DeepConvNet and a residual MLP, the
//! table `Net::summary()` prints (`NAME.txt`) and the network drawn as SVG
//! (`NAME.svg`), written to the directory given by `--out`.
//!
//! ```text
//! cargo run --example summary -- --out docs
//! ```

#[path = "convnets/nets.rs"]
mod nets;
#[path = "common/residual_nets.rs"]
mod residual_nets;
#[path = "common/two_layer_nets.rs"]
#[allow(dead_code)]
mod two_layer_nets;

use std::path::PathBuf;

use staticnet::diagram::network_svg;
use staticnet::prelude::*;
use staticnet::summary::Summary;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.as_slice() {
        [flag, dir] if flag == "--out" => PathBuf::from(dir),
        _ => return Err("usage: summary --out DIR".into()),
    };
    let two_layer = two_layer_nets::TwoLayerNet::<f32>::with_widths(
        &mut StdRng::seed_from_u64(0),
        Init::He,
        [50],
    )?;
    let summaries: [(&str, Summary); 4] = [
        ("two_layer_net", two_layer.built_summary()),
        ("simple_convnet", nets::SimpleConvNet::summary()),
        ("deep_convnet", nets::DeepConvNet::summary()),
        ("residual_mlp", residual_nets::ResidualMlp::summary()),
    ];
    std::fs::create_dir_all(&out)?;
    for (name, summary) in &summaries {
        println!("{summary}\n");
        std::fs::write(out.join(format!("{name}.txt")), format!("{summary}\n"))?;
        std::fs::write(out.join(format!("{name}.svg")), network_svg(summary))?;
    }
    Ok(())
}
