//! The addition node of a computational graph.

use core::ops::Add;

/// `z = x + y` on scalars. Backward passes the gradient on unchanged to
/// both inputs.
///
/// ```
/// use net_core::AddLayer;
/// let mut add = AddLayer::new();
/// assert_eq!(add.forward(200.0, 450.0), 650.0);
/// assert_eq!(add.backward(1.1), (1.1, 1.1));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AddLayer;

impl AddLayer {
    /// A new node; it needs no memory.
    pub fn new() -> Self {
        AddLayer
    }

    /// Returns `x + y`.
    pub fn forward<T: Add<Output = T>>(&mut self, x: T, y: T) -> T {
        x + y
    }

    /// Returns `(dout, dout)`.
    pub fn backward<T: Copy>(&self, dout: T) -> (T, T) {
        (dout, dout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MulLayer;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    /// The book's apple-and-orange example: 2 apples at 100, 3 oranges at
    /// 150, tax 1.1.
    #[test]
    fn buy_apple_orange() {
        let (apple, apple_num, orange, orange_num, tax) = (100.0, 2.0, 150.0, 3.0, 1.1);
        let mut mul_apple_layer = MulLayer::new();
        let mut mul_orange_layer = MulLayer::new();
        let mut add_apple_orange_layer = AddLayer::new();
        let mut mul_tax_layer = MulLayer::new();

        let apple_price = mul_apple_layer.forward(apple, apple_num);
        let orange_price = mul_orange_layer.forward(orange, orange_num);
        let all_price = add_apple_orange_layer.forward(apple_price, orange_price);
        let price = mul_tax_layer.forward(all_price, tax);
        assert_close(price, 715.0);

        let (dall_price, dtax) = mul_tax_layer.backward(1.0);
        let (dapple_price, dorange_price) = add_apple_orange_layer.backward(dall_price);
        let (dorange, dorange_num) = mul_orange_layer.backward(dorange_price);
        let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);
        assert_close(dapple_num, 110.0);
        assert_close(dapple, 2.2);
        assert_close(dorange, 3.3);
        assert_close(dorange_num, 165.0);
        assert_close(dtax, 650.0);
    }
}
