//! The multiplication node of a computational graph.

use core::ops::Mul;

/// `z = x · y` on scalars. Backward swaps the inputs: `dx = dout · y`,
/// `dy = dout · x`.
///
/// ```
/// use net_core::MulLayer;
/// let mut mul_apple = MulLayer::new();
/// assert_eq!(mul_apple.forward(100.0, 2.0), 200.0);
/// assert_eq!(mul_apple.backward(1.0), (2.0, 100.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct MulLayer<T = f64> {
    x: T,
    y: T,
}

impl<T: Copy + Default + Mul<Output = T>> MulLayer<T> {
    /// A node that has not seen an input yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers `x` and `y` for backward and returns `x · y`.
    pub fn forward(&mut self, x: T, y: T) -> T {
        self.x = x;
        self.y = y;
        x * y
    }

    /// Returns `(dout · y, dout · x)`.
    pub fn backward(&self, dout: T) -> (T, T) {
        (dout * self.y, dout * self.x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    /// The book's apple example: 2 apples at 100 with a tax of 1.1.
    #[test]
    fn buy_apple() {
        let (apple, apple_num, tax) = (100.0, 2.0, 1.1);
        let mut mul_apple_layer = MulLayer::new();
        let mut mul_tax_layer = MulLayer::new();

        let apple_price = mul_apple_layer.forward(apple, apple_num);
        let price = mul_tax_layer.forward(apple_price, tax);
        assert_close(price, 220.0);

        let (dapple_price, dtax) = mul_tax_layer.backward(1.0);
        let (dapple, dapple_num) = mul_apple_layer.backward(dapple_price);
        assert_close(dapple, 2.2);
        assert_close(dapple_num, 110.0);
        assert_close(dtax, 200.0);
    }
}
