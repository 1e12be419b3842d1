//! The chapter's first computational graph: two apples at 100 each, with a
//! consumption tax of 1.1. Prints the price, then the gradients of the
//! price with respect to the apple price, the apple count and the tax.

use staticnet::MulLayer;

/// Rounds away the last bits of floating-point noise so that the numbers
/// print as the book shows them (`220`, not `220.00000000000003`).
fn book(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

fn main() {
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

    println!("{}", book(price));
    println!("{} {} {}", book(dapple), book(dapple_num), book(dtax));
}
