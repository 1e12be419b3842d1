//! The chapter's second computational graph: two apples at 100 and three
//! oranges at 150, with a tax of 1.1. Prints the price, then the gradients
//! of the price with respect to every input.

use staticnet::{AddLayer, MulLayer};

/// Rounds away the last bits of floating-point noise so that the numbers
/// print as the book shows them (`715`, not `715.0000000000001`).
fn book(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

fn main() {
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

    println!("{}", book(price));
    println!(
        "{} {} {} {} {}",
        book(dapple_num),
        book(dapple),
        book(dorange),
        book(dorange_num),
        book(dtax)
    );
}
