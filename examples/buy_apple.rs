//! The chapter's first computational graph: two apples at 100 each, with a
//! consumption tax of 1.1. Prints the price, then the gradients of the
//! price with respect to the apple price, the apple count and the tax.
//! `--svg PATH` also draws the graph (the book's figure 5-16): forward
//! values above the arrows, backward values under them.

use staticnet::MulLayer;
use staticnet::diagram::ComputationalGraph;

/// Rounds away the last bits of floating-point noise so that the numbers
/// print as the book shows them (`220`, not `220.00000000000003`).
fn book(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// The forward and backward passes, as the book writes them: the price,
/// its gradients with respect to the apple price, the apple count and the
/// tax, and the graph with every value.
pub fn run() -> (f64, [f64; 3], ComputationalGraph) {
    let (apple, apple_num, tax) = (100.0, 2.0, 1.1);

    let mut mul_apple_layer = MulLayer::new();
    let mut mul_tax_layer = MulLayer::new();

    // forward
    let apple_price = mul_apple_layer.forward(apple, apple_num);
    let price = mul_tax_layer.forward(apple_price, tax);

    // backward
    let dprice = 1.0;
    let (dapple_price, dtax) = mul_tax_layer.backward(dprice);
    let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);

    let mut graph = ComputationalGraph::new();
    let apple_in = graph.input("apple", apple, dapple);
    let apple_num_in = graph.input("apple num", apple_num, dapple_num);
    let apple_price_out = graph.node("×", &[apple_in, apple_num_in], apple_price, dapple_price);
    let tax_in = graph.input("tax", tax, dtax);
    let price_out = graph.node("×", &[apple_price_out, tax_in], price, dprice);
    graph.output("price", price_out);
    (price, [dapple, dapple_num, dtax], graph)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (price, [dapple, dapple_num, dtax], graph) = run();
    println!("{}", book(price));
    println!("{} {} {}", book(dapple), book(dapple_num), book(dtax));
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(()),
        [flag, path] if flag == "--svg" => Ok(std::fs::write(path, graph.to_svg())?),
        _ => Err("usage: buy_apple [--svg PATH]".into()),
    }
}
