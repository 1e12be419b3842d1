//! The book's two convolutional networks, declared with `network!`: the
//! `SimpleConvNet` of chapter 7 and the `DeepConvNet` of chapter 8.
//! Included with `#[path]` by the `simple_convnet` and `deep_convnet`
//! examples, `examples/bench.rs` and `benches/layers.rs`.
#![allow(dead_code)]

use staticnet::prelude::*;

network! {
    /// The book's `SimpleConvNet`: `conv - relu - pool - affine - relu -
    /// affine - softmax`, with its parameters named `W1`/`b1` (the filters,
    /// `[30, 1, 5, 5]`), `W2`/`b2` and `W3`/`b3`, as in the book.
    pub struct SimpleConvNet<
        Input<1, 28, 28>,
        Conv2d<30, 5>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<4320, 100>,
        Relu,
        Affine<100, 10>,
        SoftmaxWithLoss,
    >
}

network! {
    /// The book's `DeepConvNet`: six 3×3 convolutions, each followed by a
    /// ReLU, in pairs of 16, 32 and 64 filters, each pair followed by 2×2
    /// pooling; then `affine - relu - dropout - affine - dropout - softmax`.
    /// Every convolution pads by 1 pixel, keeping the image's size, except
    /// the fourth, which pads by 2 and turns 14×14 into 16×16, as the book
    /// writes it. Its parameters are `W1`/`b1` to `W8`/`b8`, as in the book.
    pub struct DeepConvNet<
        Input<1, 28, 28>,
        Conv2d<16, 3, pad = 1>,   // 16 × 28 × 28
        Relu,
        Conv2d<16, 3, pad = 1>,   // 16 × 28 × 28
        Relu,
        MaxPool2d<2, stride = 2>, // 16 × 14 × 14
        Conv2d<32, 3, pad = 1>,   // 32 × 14 × 14
        Relu,
        Conv2d<32, 3, pad = 2>,   // 32 × 16 × 16
        Relu,
        MaxPool2d<2, stride = 2>, // 32 × 8 × 8
        Conv2d<64, 3, pad = 1>,   // 64 × 8 × 8
        Relu,
        Conv2d<64, 3, pad = 1>,   // 64 × 8 × 8
        Relu,
        MaxPool2d<2, stride = 2>, // 64 × 4 × 4
        Flatten,                  // 1024
        Affine<1024, 50>,
        Relu,
        Dropout<0.5>,
        Affine<50, 10>,
        Dropout<0.5>,
        SoftmaxWithLoss,
    >
}
