//! Diagrams as SVG, drawn by the library with no external program:
//!
//! - [`network_svg`]: a declared network from its
//!   [`Summary`](crate::summary::Summary) — boxes for the layers, the
//!   forward shape above every arrow and the gradient's under it, the
//!   dimension matching of each `Affine`'s products, nested networks as
//!   dashed boxes and `Residual`'s skip.
//! - [`ComputationalGraph`]: the chapter's computational graphs (the
//!   apples, the oranges and the tax), forward values above the arrows and
//!   backward values under them.
//!
//! The text is in a monospace font, so that its width is known without
//! measuring; any SVG viewer or browser shows them.

mod graph;
mod network;
mod svg;

pub use graph::{ComputationalGraph, Port};
pub use network::network_svg;
