//! The layers as they were before the kernel work (commit 749eebb): every
//! product through `matrixmultiply`, and the element-wise parts as first
//! written. Kept verbatim (minus the docs) as the in-run baseline of
//! `examples/bench.rs` and `benches/layers.rs`.
#![allow(dead_code)]

use core::marker::PhantomData;

use staticnet::nalgebra::{Dim, Matrix, RawStorage, RawStorageMut};
use staticnet::rand::RngCore;
use staticnet::{
    Batch, BatchStorage, Const, Dyn, HeapMatrix, Init, Layer, LossLayer, OMatrix, ParamMut,
    ParamName, ParamRef, ParamShape, ParamUpdate, Scalar, Shape, Targets,
};

/// `f32` or `f64` through `matrixmultiply`.
pub trait MmScalar: Scalar {
    /// `C ← α·A·B + β·C` with strides.
    ///
    /// # Safety
    /// As `matrixmultiply::sgemm`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn mm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    );
}

macro_rules! mm_scalar {
    ($t:ty, $f:path) => {
        impl MmScalar for $t {
            unsafe fn mm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: (*const Self, isize, isize),
                b: (*const Self, isize, isize),
                beta: Self,
                c: (*mut Self, isize, isize),
            ) {
                // SAFETY: forwarded from the caller.
                unsafe {
                    $f(
                        m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
                    )
                }
            }
        }
    };
}
mm_scalar!(f32, matrixmultiply::sgemm);
mm_scalar!(f64, matrixmultiply::dgemm);

type Operand<T> = (*const T, usize, usize, isize, isize);

fn operand<T, R: Dim, C: Dim, S: RawStorage<T, R, C>>(m: &Matrix<T, R, C, S>) -> Operand<T> {
    let (rows, cols) = m.shape();
    let (rs, cs) = m.strides();
    (m.as_ptr(), rows, cols, rs as isize, cs as isize)
}

fn transposed<T>((p, r, c, rs, cs): Operand<T>) -> Operand<T> {
    (p, c, r, cs, rs)
}

fn gemm_operands<T: MmScalar, R: Dim, C: Dim, SC: RawStorageMut<T, R, C>>(
    alpha: T,
    a: Operand<T>,
    b: Operand<T>,
    beta: T,
    c: &mut Matrix<T, R, C, SC>,
) {
    let (m, n) = c.shape();
    assert!(a.1 == m && b.2 == n && a.2 == b.1);
    let (rs, cs) = c.strides();
    // SAFETY: shapes checked; `c` is borrowed mutably, `a` and `b` shared.
    unsafe {
        T::mm(
            m,
            a.2,
            n,
            alpha,
            (a.0, a.3, a.4),
            (b.0, b.3, b.4),
            beta,
            (c.as_mut_ptr(), rs as isize, cs as isize),
        )
    }
}

/// The original Affine.
#[derive(Clone, Debug)]
pub struct BaseAffine<T: Scalar, const I: usize, const O: usize> {
    pub w: HeapMatrix<T, I, O>,
    pub b: HeapMatrix<T, 1, O>,
    pub dw: HeapMatrix<T, I, O>,
    pub db: HeapMatrix<T, 1, O>,
    out: OMatrix<T, Dyn, Const<O>>,
    dx: OMatrix<T, Dyn, Const<I>>,
}

impl<T: MmScalar, const I: usize, const O: usize> BaseAffine<T, I, O> {
    fn params_backward(&mut self, x: &OMatrix<T, Dyn, Const<I>>, dout: &OMatrix<T, Dyn, Const<O>>) {
        gemm_operands(
            T::one(),
            transposed(operand(x)),
            operand(dout),
            T::zero(),
            &mut self.dw.view_mut(),
        );
        for (db, column) in self.db.as_mut_slice().iter_mut().zip(dout.column_iter()) {
            *db = column.sum();
        }
    }
}

impl<T: Scalar, const I: usize, const O: usize> BaseAffine<T, I, O> {
    pub fn from_params(w: HeapMatrix<T, I, O>, b: HeapMatrix<T, 1, O>) -> Self {
        BaseAffine {
            w,
            b,
            dw: HeapMatrix::zeros(),
            db: HeapMatrix::zeros(),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        }
    }
}

impl<T: MmScalar, const I: usize, const O: usize> Layer<T> for BaseAffine<T, I, O> {
    type In = Const<I>;
    type Out = Const<O>;

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        let a = <staticnet::Affine<T, I, O> as Layer<T>>::init(rng, init);
        Self::from_params(a.w, a.b)
    }

    fn forward(&mut self, x: &OMatrix<T, Dyn, Const<I>>) -> &OMatrix<T, Dyn, Const<O>> {
        self.out.set_batch_size(x.nrows());
        for (mut column, &b) in self.out.column_iter_mut().zip(self.b.as_slice()) {
            column.fill(b);
        }
        let w = self.w.view();
        gemm_operands(T::one(), operand(x), operand(&w), T::one(), &mut self.out);
        &self.out
    }

    fn output(&self) -> &OMatrix<T, Dyn, Const<O>> {
        &self.out
    }

    fn backward(
        &mut self,
        x: &OMatrix<T, Dyn, Const<I>>,
        dout: &OMatrix<T, Dyn, Const<O>>,
    ) -> &OMatrix<T, Dyn, Const<I>> {
        self.params_backward(x, dout);
        self.dx.set_batch_size(dout.nrows());
        let w = self.w.view();
        gemm_operands(
            T::one(),
            operand(dout),
            transposed(operand(&w)),
            T::zero(),
            &mut self.dx,
        );
        &self.dx
    }

    /// No `dx`, then the update from the stored gradients.
    fn backward_first(
        &mut self,
        x: &OMatrix<T, Dyn, Const<I>>,
        dout: &OMatrix<T, Dyn, Const<O>>,
        update: ParamUpdate<T>,
    ) {
        self.params_backward(x, dout);
        update.apply(self);
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        f(ParamRef {
            name: ParamName::new("W"),
            shape: ParamShape::Matrix { rows: I, cols: O },
            value: self.w.as_slice(),
            grad: self.dw.as_slice(),
        });
        f(ParamRef {
            name: ParamName::new("b"),
            shape: ParamShape::Vector(O),
            value: self.b.as_slice(),
            grad: self.db.as_slice(),
        });
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        f(ParamMut {
            name: ParamName::new("W"),
            shape: ParamShape::Matrix { rows: I, cols: O },
            value: self.w.as_mut_slice(),
            grad: self.dw.as_mut_slice(),
        });
        f(ParamMut {
            name: ParamName::new("b"),
            shape: ParamShape::Vector(O),
            value: self.b.as_mut_slice(),
            grad: self.db.as_mut_slice(),
        });
    }
}

/// The original Relu.
#[derive(Clone, Debug)]
pub struct BaseRelu<T: Scalar, S: Shape> {
    mask: Vec<bool>,
    out: Batch<T, S>,
    dx: Batch<T, S>,
    shape: PhantomData<S>,
}

impl<T: Scalar, S: Shape> Layer<T> for BaseRelu<T, S> {
    type In = S;
    type Out = S;

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        BaseRelu {
            mask: Vec::new(),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            shape: PhantomData,
        }
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.out.set_batch_size(x.batch_size());
        self.mask.resize(x.as_slice().len(), false);
        let out = self.out.as_mut_slice();
        for ((y, masked), &x) in out.iter_mut().zip(&mut self.mask).zip(x.as_slice()) {
            *masked = x <= T::zero();
            *y = if *masked { T::zero() } else { x };
        }
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_batch_size(dout.batch_size());
        let dx = self.dx.as_mut_slice();
        for ((dx, &masked), &dout) in dx.iter_mut().zip(&self.mask).zip(dout.as_slice()) {
            *dx = if masked { T::zero() } else { dout };
        }
        &self.dx
    }
}

/// The original SoftmaxWithLoss.
#[derive(Clone, Debug)]
pub struct BaseSoftmaxWithLoss<T: Scalar, const N: usize> {
    y: OMatrix<T, Dyn, Const<N>>,
    dx: OMatrix<T, Dyn, Const<N>>,
    row_max: Vec<T>,
    row_sum: Vec<T>,
}

impl<T: Scalar, const N: usize> BaseSoftmaxWithLoss<T, N> {
    fn softmax(&mut self, x: &OMatrix<T, Dyn, Const<N>>) {
        let rows = x.nrows();
        self.y.set_batch_size(rows);
        let (row_max, row_sum) = (&mut self.row_max, &mut self.row_sum);
        row_max.clear();
        row_max.resize(rows, T::NEG_INFINITY);
        row_sum.clear();
        row_sum.resize(rows, T::zero());
        for column in x.column_iter() {
            for (max, &v) in row_max.iter_mut().zip(column.iter()) {
                if v > *max {
                    *max = v;
                }
            }
        }
        for (mut y_col, x_col) in self.y.column_iter_mut().zip(x.column_iter()) {
            for ((y, &x), (&max, sum)) in y_col
                .iter_mut()
                .zip(x_col.iter())
                .zip(row_max.iter().zip(row_sum.iter_mut()))
            {
                *y = (x - max).exp();
                *sum += *y;
            }
        }
        for mut y_col in self.y.column_iter_mut() {
            for (y, &sum) in y_col.iter_mut().zip(row_sum.iter()) {
                *y /= sum;
            }
        }
    }
}

impl<T: Scalar, const N: usize> LossLayer<T> for BaseSoftmaxWithLoss<T, N> {
    type In = Const<N>;

    fn new() -> Self {
        BaseSoftmaxWithLoss {
            y: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            row_max: Vec::new(),
            row_sum: Vec::new(),
        }
    }

    fn forward(&mut self, x: &OMatrix<T, Dyn, Const<N>>, t: Targets<'_, T, Const<N>>) -> T {
        let rows = x.nrows();
        assert_eq!(t.batch_size(), rows);
        self.softmax(x);
        let log_y = |n: usize, x: T| x - self.row_max[n] - self.row_sum[n].ln();
        let mut total = T::zero();
        match t {
            Targets::Classes(classes) => {
                for (n, &c) in classes.iter().enumerate() {
                    total -= log_y(n, x[(n, c)]);
                }
            }
            Targets::Dense(t) => {
                for (x_col, t_col) in x.column_iter().zip(t.column_iter()) {
                    for (n, (&x, &t)) in x_col.iter().zip(t_col.iter()).enumerate() {
                        if t != T::zero() {
                            total -= t * log_y(n, x);
                        }
                    }
                }
            }
        }
        total / T::of_f64(rows as f64)
    }

    fn backward(&mut self, t: Targets<'_, T, Const<N>>) -> &OMatrix<T, Dyn, Const<N>> {
        let rows = self.y.nrows();
        assert_eq!(t.batch_size(), rows);
        self.dx.set_batch_size(rows);
        let scale = T::one() / T::of_f64(rows as f64);
        for (j, (mut dx_col, y_col)) in self
            .dx
            .column_iter_mut()
            .zip(self.y.column_iter())
            .enumerate()
        {
            for (n, (dx, &y)) in dx_col.iter_mut().zip(y_col.iter()).enumerate() {
                *dx = (y - t.value(n, j)) * scale;
            }
        }
        &self.dx
    }

    fn output(&self) -> &OMatrix<T, Dyn, Const<N>> {
        &self.y
    }
}
