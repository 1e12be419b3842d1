//! The chapter's second computational graph: two apples at 100 and three
//! oranges at 150, with a tax of 1.1. Prints the price, then the gradients
//! of the price with respect to every input. `--svg PATH` also draws the
//! graph (the book's figure 5-17): forward values above the arrows,
//! backward values under them.

use staticnet::diagram::ComputationalGraph;
use staticnet::{AddLayer, MulLayer};

/// Rounds away the last bits of floating-point noise so that the numbers
/// print as the book shows them (`715`, not `715.0000000000001`).
fn book(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// The forward and backward passes, as the book writes them: the price,
/// its gradients with respect to the apple count, the apple price, the
/// orange price, the orange count and the tax, and the graph with every
/// value.
pub fn run() -> (f64, [f64; 5], ComputationalGraph) {
    let (apple, apple_num) = (100.0, 2.0);
    let (orange, orange_num) = (150.0, 3.0);
    let tax = 1.1;

    let mut mul_apple_layer = MulLayer::new();
    let mut mul_orange_layer = MulLayer::new();
    let mut add_apple_orange_layer = AddLayer::new();
    let mut mul_tax_layer = MulLayer::new();

    // forward
    let apple_price = mul_apple_layer.forward(apple, apple_num);
    let orange_price = mul_orange_layer.forward(orange, orange_num);
    let all_price = add_apple_orange_layer.forward(apple_price, orange_price);
    let price = mul_tax_layer.forward(all_price, tax);

    // backward
    let dprice = 1.0;
    let (dall_price, dtax) = mul_tax_layer.backward(dprice);
    let (dapple_price, dorange_price) = add_apple_orange_layer.backward(dall_price);
    let (dorange, dorange_num) = mul_orange_layer.backward(dorange_price);
    let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);

    let mut graph = ComputationalGraph::new();
    let apple_in = graph.input("apple", apple, dapple);
    let apple_num_in = graph.input("apple num", apple_num, dapple_num);
    let apple_price_out = graph.node("×", &[apple_in, apple_num_in], apple_price, dapple_price);
    let orange_in = graph.input("orange", orange, dorange);
    let orange_num_in = graph.input("orange num", orange_num, dorange_num);
    let orange_price_out = graph.node(
        "×",
        &[orange_in, orange_num_in],
        orange_price,
        dorange_price,
    );
    let all_price_out = graph.node(
        "+",
        &[apple_price_out, orange_price_out],
        all_price,
        dall_price,
    );
    let tax_in = graph.input("tax", tax, dtax);
    let price_out = graph.node("×", &[all_price_out, tax_in], price, dprice);
    graph.output("price", price_out);
    (
        price,
        [dapple_num, dapple, dorange, dorange_num, dtax],
        graph,
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (price, gradients, graph) = run();
    println!("{}", book(price));
    let gradients: Vec<String> = gradients.iter().map(|&g| book(g).to_string()).collect();
    println!("{}", gradients.join(" "));
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(()),
        [flag, path] if flag == "--svg" => Ok(std::fs::write(path, graph.to_svg())?),
        _ => Err("usage: buy_apple_orange [--svg PATH]".into()),
    }
}
