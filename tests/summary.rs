//! `Net::summary()` and `net.built_summary()`: the book's parameter counts,
//! multiply-adds counted here again from the book's formulas, torchinfo's
//! counts of the same nets in PyTorch, the table's alignment, nested
//! networks and `Residual` shown as such, runtime widths at their values,
//! and the rustdoc table.

use staticnet::prelude::*;

#[path = "../examples/convnets/nets.rs"]
mod nets;
#[path = "../examples/common/residual_nets.rs"]
mod residual_nets;

use nets::{DeepConvNet, SimpleConvNet};
use residual_nets::ResidualMlp;

network! {
    /// The book's two-layer net.
    pub struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

network! {
    /// The chapter-3 net: 784-50-100-10 with sigmoids.
    pub struct ChapterThreeNet<Affine<784, 50>, Sigmoid, Affine<50, 100>, Sigmoid, Affine<100, 10>, SoftmaxWithLoss>
}

network! {
    pub struct RuntimeNet<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}

/// `y = x / (1 + |x|)`, a layer of one's own that does not describe itself.
#[derive(Clone, Debug)]
pub struct Softsign<T: Scalar, S: Shape>(Batch<T, S>);

impl<T: Scalar, S: Shape> Layer<T> for Softsign<T, S> {
    type In = S;
    type Out = S;
    fn init(_: &mut dyn RngCore, _: Init) -> Self {
        Softsign(BatchStorage::zeros(0))
    }
    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.0 = x.clone();
        &self.0
    }
    fn output(&self) -> &Batch<T, S> {
        &self.0
    }
    fn backward(&mut self, _: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.0 = dout.clone();
        &self.0
    }
}

network! {
    pub struct WithOwnLayer<Affine<4, 8>, Softsign, Affine<8, 2>, SoftmaxWithLoss>
}

#[test]
fn parameter_counts_are_the_books() {
    assert_eq!(TwoLayerNet::summary().params(), Some(39_760));
    assert_eq!(ChapterThreeNet::summary().params(), Some(45_360));
    assert_eq!(SimpleConvNet::summary().params(), Some(433_890));
    assert_eq!(DeepConvNet::summary().params(), Some(123_552));
    // And what the built networks hold.
    let net = SimpleConvNet::<f32>::new(&mut StdRng::seed_from_u64(0));
    assert_eq!(net.built_summary().params(), Some(net.param_count()));
}

/// `⌊(size + 2·pad − window)/stride⌋ + 1`, the book's (7.1).
fn out_size(size: u64, window: u64, stride: u64, pad: u64) -> u64 {
    (size + 2 * pad - window) / stride + 1
}

#[test]
fn multiply_adds_agree_with_the_books_formulas() {
    // Affine<I, O>: x·W is I·O multiply-adds per sample.
    assert_eq!(TwoLayerNet::summary().macs(), Some(784 * 50 + 50 * 10));
    // Conv2d: out_h·out_w·FN·C·FH·FW.
    let conv1 = {
        let side = out_size(28, 5, 1, 0);
        side * side * 30 * 5 * 5
    };
    assert_eq!(
        SimpleConvNet::summary().macs(),
        Some(conv1 + 4320 * 100 + 100 * 10)
    );

    // DeepConvNet: (channels in, filters, pad, side in) of each 3×3 convolution.
    let convs = [
        (1, 16, 1, 28),
        (16, 16, 1, 28),
        (16, 32, 1, 14),
        (32, 32, 2, 14),
        (32, 64, 1, 8),
        (64, 64, 1, 8),
    ];
    let conv_macs: u64 = convs
        .iter()
        .map(|&(c, f, pad, side)| {
            let out = out_size(side, 3, 1, pad);
            out * out * f * c * 3 * 3
        })
        .sum();
    assert_eq!(
        DeepConvNet::summary().macs(),
        Some(conv_macs + 1024 * 50 + 50 * 10)
    );
}

/// torchinfo 1.8 on the same nets in PyTorch (`nn.Sequential` of the same
/// layers, input of batch 1) counts 39,760 / 882,390 / 8,820,144
/// mult-adds: ours plus one per bias and output position, which it counts
/// and the book's products do not. Its parameter counts equal ours.
#[test]
fn torchinfo_counts_ours_and_the_biases() {
    let with_biases =
        |summary: staticnet::summary::Summary, biases: u64| summary.macs().map(|m| m + biases);
    assert_eq!(with_biases(TwoLayerNet::summary(), 50 + 10), Some(39_760));
    assert_eq!(
        with_biases(SimpleConvNet::summary(), 30 * 24 * 24 + 100 + 10),
        Some(882_390)
    );
    let conv_biases = 16 * 28 * 28 * 2 + 32 * 14 * 14 + 32 * 16 * 16 + 64 * 8 * 8 * 2;
    assert_eq!(
        with_biases(DeepConvNet::summary(), conv_biases + 50 + 10),
        Some(8_820_144)
    );
}

#[test]
fn memory_is_counted_as_documented() {
    let summary = TwoLayerNet::summary();
    // Outputs per sample: 50 + 50 + 10 + the loss's 10 probabilities.
    assert_eq!(summary.activation_bytes(), Some(120 * 4));
    // Parameters and gradients, and per sample outputs and input gradients
    // (784 + 50 + 50 + 10).
    assert_eq!(
        summary.training_bytes(100),
        Some((2 * 39_760 + 100 * (120 + 894)) * 4)
    );
    assert_eq!(summary.inference_bytes(100), Some((39_760 + 100 * 120) * 4));
    assert_eq!(summary.optimizer_state_bytes(2), Some(2 * 39_760 * 4));
    let f64s = TwoLayerNet::summary().for_scalar::<f64>();
    assert_eq!(f64s.activation_bytes(), Some(120 * 8));
}

#[test]
fn the_table_is_aligned() {
    let text = SimpleConvNet::summary().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "SimpleConvNet, f32, input N×1×28×28");
    // Header, rule, 8 layers, rule, total: the last column is right-aligned,
    // so every line ends at the same column.
    let table = &lines[1..13];
    let width = table[0].chars().count();
    for line in table {
        assert_eq!(line.chars().count(), width, "{line:?}");
    }
    let header = table[0];
    let column = |line: &str, cell: &str| line.find(cell).map(|byte| line[..byte].chars().count());
    let conv = lines
        .iter()
        .find(|l| l.starts_with("conv1"))
        .expect("conv1");
    assert_eq!(column(header, "declared"), column(conv, "Conv2d<30, 5>"));
    assert_eq!(column(header, "output"), column(conv, "N×30×24×24"));
    assert!(conv.contains("780") && conv.contains("432,000") && conv.ends_with("67.5 KiB"));
    assert!(lines[12].starts_with("total") && lines[12].contains("433,890"));
}

#[test]
fn a_residual_block_is_shown_with_its_layers_and_skip() {
    let summary = ResidualMlp::summary();
    let residual = &summary.rows()[2];
    assert_eq!(
        (residual.field, residual.declared),
        ("residual1", "Residual<Block>")
    );
    let d = &residual.description;
    assert!(d.skip);
    let fields: Vec<&str> = d.children.iter().map(|r| r.field).collect();
    assert_eq!(fields, ["affine1", "relu1", "affine2"]);
    assert_eq!(d.params, Some(2 * (100 * 100 + 100)));
    let text = summary.to_string();
    let at = |prefix: &str| text.lines().position(|l| l.starts_with(prefix));
    assert_eq!(at("residual1").map(|k| k + 1), at("  affine1"));
    assert_eq!(at("  affine2").map(|k| k + 1), at("  + skip"));
    assert_eq!(
        summary.params(),
        Some(784 * 100 + 100 + 2 * 10_100 + 100 * 10 + 10)
    );
}

#[test]
fn runtime_widths_show_as_dyn_and_at_their_values_once_built() {
    let declared = RuntimeNet::summary();
    let first = &declared.rows()[0].description;
    assert_eq!(first.output.to_string(), "N×dyn");
    assert_eq!((first.params, first.macs), (None, None));
    assert_eq!(declared.params(), None);
    assert!(
        declared
            .to_string()
            .contains("Affine<784, dyn>  N×dyn        ?")
    );

    let net =
        RuntimeNet::<f32>::with_widths(&mut StdRng::seed_from_u64(0), Init::He, [77]).unwrap();
    let built = net.built_summary();
    let shapes: Vec<String> = built
        .rows()
        .iter()
        .map(|r| r.description.output.to_string())
        .collect();
    assert_eq!(shapes, ["N×77", "N×77", "N×10", "N×10"]);
    assert_eq!(built.params(), Some(784 * 77 + 77 + 77 * 10 + 10));
    assert_eq!(built.macs(), Some(784 * 77 + 77 * 10));
}

#[test]
fn a_layer_of_ones_own_gets_a_row() {
    let declared = WithOwnLayer::summary();
    let own = &declared.rows()[1];
    assert_eq!(
        (own.field, own.description.output.to_string()),
        ("softsign1", "N×8".to_owned())
    );
    assert_eq!((own.description.params, own.description.macs), (None, None));
    let net = WithOwnLayer::<f32>::init(&mut StdRng::seed_from_u64(0), Init::He);
    let built = net.built_summary();
    assert_eq!(built.rows()[1].description.params, Some(0));
    assert_eq!(built.params(), Some(4 * 8 + 8 + 8 * 2 + 2));
    assert_eq!(built.macs(), None);
}

#[test]
fn the_rustdoc_table_is_the_summarys() {
    assert_eq!(TwoLayerNet::SUMMARY_DOC, TwoLayerNet::summary().markdown());
    assert_eq!(
        SimpleConvNet::SUMMARY_DOC,
        SimpleConvNet::summary().markdown()
    );
    assert_eq!(DeepConvNet::SUMMARY_DOC, DeepConvNet::summary().markdown());
    assert!(
        SimpleConvNet::SUMMARY_DOC
            .contains("| `conv1` | `Conv2d<30, 5>` | N×30×24×24 | 780 | 432,000 |")
    );
    // What the macro cannot see is `?`: the block behind `Residual<Block>`.
    assert!(
        ResidualMlp::SUMMARY_DOC.contains("| `residual1` | `Residual<Block>` | N×100 | ? | ? |")
    );
}
