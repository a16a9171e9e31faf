//! The population's dense layer as one fused operation: `y = act(x W + b)` for every member at
//! once (`x [P, B, I]`, `W [P, I, O]`, `b [P, 1, O]`, `act` ReLU or none), with its own backward.
//!
//! Written as composed tensor operations, a layer is three autodiff nodes (product, broadcast
//! add, ReLU), each with its own allocation and kernel, forward and backward. Here it is one node.
//! On flex it runs on the host: the forward is one matrix product per member, then the bias and
//! the ReLU in one pass over its output; the backward masks the output gradient by the ReLU once
//! and takes the three gradients from it. It calls the same `gemm` kernels the composed layer
//! reached through flex and adds in the same order, so its numbers are the composed layer's bit
//! for bit (tested below); it saves the nodes, the allocations and the passes between them. On
//! ndarray it is composed of ndarray's own kernels, so there too the numbers do not change.
//!
//! It is a backend extension of burn's (`#[backend_extension]`), differentiated by burn's autodiff
//! through a custom [`Backward`]: the network, its parameters, the backward pass and the
//! optimizer stay burn's. Member `m`'s output reads only member `m`'s slices and each product runs
//! on one thread, so a member's numbers do not depend on the population it trains in.

// burn marks its ndarray backend deprecated; it stays built and selectable here.
#![allow(deprecated)]
// The host kernels serve flex; a build without it keeps them unused.
#![cfg_attr(not(feature = "flex"), allow(dead_code))]

#[cfg(feature = "flex")]
use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::{ActivationOps, FloatTensorOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, NdArray, TensorMetadata, backend_extension};
use burn::tensor::{Tensor, TensorData};

/// The fused dense layer, dispatched to the backend a tensor lives on.
#[backend_extension(NdArray, Flex: cfg(feature = "flex"), Autodiff)]
pub trait PopDense: Backend {
    /// `act(x W + b)` per member; `act` is ReLU when `relu`.
    fn pop_dense(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, relu: bool) -> FloatTensor<Self>;
}

/// The backward of [`PopDense`] on a backend that computes (not the autodiff decorator).
pub trait PopDenseBackward: PopDense {
    /// From the output `y` and its gradient `dy`: `(dx, dW, db)`, `dx` only when `want_dx`.
    fn pop_dense_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        relu: bool,
        want_dx: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>, FloatTensor<Self>);
}

/// `act(x W + b)` for a population: `x [P, B, I]`, `w [P, I, O]`, `b [P, 1, O]` → `[P, B, O]`.
pub fn pop_dense(x: Tensor<3>, w: Tensor<3>, b: Tensor<3>, relu: bool) -> Tensor<3> {
    let y =
        <burn::backend::Dispatch as PopDense>::pop_dense(x.into_dispatch(), w.into_dispatch(), b.into_dispatch(), relu);
    Tensor::from_dispatch(y)
}

/// The sizes of one call: population, rows, inputs, outputs.
#[derive(Debug, Clone, Copy)]
struct Dims {
    p: usize,
    rows: usize,
    input: usize,
    output: usize,
}

impl Dims {
    fn of(x: &[usize], w: &[usize]) -> Dims {
        assert!(
            x.len() == 3 && w.len() == 3 && x[0] == w[0] && x[2] == w[1],
            "pop_dense: x {x:?} and W {w:?} do not match"
        );
        Dims {
            p: x[0],
            rows: x[1],
            input: x[2],
            output: w[2],
        }
    }
}

/// `dst [m×n] = lhs [m×k] · rhs [k×n]` on one thread, each operand given by its row and column
/// strides, `dst` row-major (also the bench's floor).
pub fn product(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    assert!(dst.len() >= m * n, "product: dst holds {} of {m}×{n}", dst.len());
    assert!(
        m == 0 || k == 0 || lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs,
        "product: lhs too short"
    );
    assert!(
        k == 0 || n == 0 || rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs,
        "product: rhs too short"
    );
    // SAFETY: the asserts above keep every index gemm reads or writes inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The forward on host slices: each member's product, then its bias and ReLU in one pass.
fn forward(d: Dims, x: &[f32], w: &[f32], b: &[f32], relu: bool) -> Vec<f32> {
    let Dims { p, rows, input, output } = d;
    let mut y = vec![0.0f32; p * rows * output];
    for m in 0..p {
        let ym = &mut y[m * rows * output..(m + 1) * rows * output];
        let xm = &x[m * rows * input..(m + 1) * rows * input];
        let wm = &w[m * input * output..(m + 1) * input * output];
        product((rows, output, input), ym, xm, (input, 1), wm, (output, 1));
        let bm = &b[m * output..(m + 1) * output];
        for row in ym.chunks_exact_mut(output) {
            for (v, bias) in row.iter_mut().zip(bm) {
                *v += bias;
            }
            if relu {
                // As burn's ReLU: NaN passes through (a diverging member stays visible).
                for v in row.iter_mut() {
                    *v = if v.is_nan() || *v > 0.0 { *v } else { 0.0 };
                }
            }
        }
    }
    y
}

/// The backward on host slices: `g = dy ⊙ [y > 0 or y is NaN]` (or `dy`), then per member
/// `dW = xᵀ g`, `db = Σ_rows g`, and `dx = g Wᵀ` when asked.
fn backward(
    d: Dims,
    x: &[f32],
    w: &[f32],
    y: &[f32],
    dy: &[f32],
    relu: bool,
    want_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let Dims { p, rows, input, output } = d;
    let g: Vec<f32> = if relu {
        dy.iter()
            .zip(y)
            .map(|(&d, &y)| if y.is_nan() || y > 0.0 { d } else { 0.0 })
            .collect()
    } else {
        dy.to_vec()
    };
    let mut dw = vec![0.0f32; p * input * output];
    let mut db = vec![0.0f32; p * output];
    let mut dx = want_dx.then(|| vec![0.0f32; p * rows * input]);
    for m in 0..p {
        let gm = &g[m * rows * output..(m + 1) * rows * output];
        let xm = &x[m * rows * input..(m + 1) * rows * input];
        let wm = &w[m * input * output..(m + 1) * input * output];
        // dW [I×O] = xᵀ [I×B] · g [B×O]
        product(
            (input, output, rows),
            &mut dw[m * input * output..(m + 1) * input * output],
            xm,
            (1, input),
            gm,
            (output, 1),
        );
        let dbm = &mut db[m * output..(m + 1) * output];
        for row in gm.chunks_exact(output) {
            for (acc, v) in dbm.iter_mut().zip(row) {
                *acc += v;
            }
        }
        if let Some(dx) = &mut dx {
            // dx [B×I] = g [B×O] · Wᵀ [O×I]
            product(
                (rows, input, output),
                &mut dx[m * rows * input..(m + 1) * rows * input],
                gm,
                (output, 1),
                wm,
                (1, output),
            );
        }
    }
    (dx, dw, db)
}

/// A CPU backend whose float tensors the fused layer reads as host slices and writes from host
/// vectors.
trait Host: Backend {
    /// Calls `f` with the tensor's shape and its values in row-major order.
    fn view<R>(t: &FloatTensor<Self>, f: impl FnOnce(&[usize], &[f32]) -> R) -> R;
    /// A tensor of `shape` holding `values`, on the device of `like`.
    fn make(values: Vec<f32>, shape: [usize; 3], like: &FloatTensor<Self>) -> FloatTensor<Self>;
}

#[cfg(feature = "flex")]
impl Host for Flex {
    fn view<R>(t: &FloatTensor<Self>, f: impl FnOnce(&[usize], &[f32]) -> R) -> R {
        let shape = t.shape().dims::<3>().to_vec();
        match t.as_slice::<f32>() {
            Some(values) => f(&shape, values),
            None => f(
                &shape,
                t.to_contiguous()
                    .as_slice::<f32>()
                    .expect("the policy's tensors are f32"),
            ),
        }
    }

    fn make(values: Vec<f32>, shape: [usize; 3], _like: &FloatTensor<Self>) -> FloatTensor<Self> {
        burn::backend::flex::FlexTensor::from_data(TensorData::new(values, shape))
    }
}

/// The fused layer on a CPU backend, through host slices.
fn forward_on<B: Host>(x: FloatTensor<B>, w: FloatTensor<B>, b: FloatTensor<B>, relu: bool) -> FloatTensor<B> {
    let (d, y) = B::view(&x, |xs, xv| {
        B::view(&w, |ws, wv| {
            B::view(&b, |bs, bv| {
                let d = Dims::of(xs, ws);
                assert_eq!(bs, [d.p, 1, d.output], "pop_dense: the bias is [P, 1, O]");
                (d, forward(d, xv, wv, bv, relu))
            })
        })
    });
    B::make(y, [d.p, d.rows, d.output], &x)
}

#[allow(clippy::type_complexity)]
fn backward_on<B: Host>(
    x: FloatTensor<B>,
    w: FloatTensor<B>,
    y: FloatTensor<B>,
    dy: FloatTensor<B>,
    relu: bool,
    want_dx: bool,
) -> (Option<FloatTensor<B>>, FloatTensor<B>, FloatTensor<B>) {
    let (d, (dx, dw, db)) = B::view(&x, |xs, xv| {
        B::view(&w, |ws, wv| {
            B::view(&y, |_, yv| {
                B::view(&dy, |_, dyv| {
                    let d = Dims::of(xs, ws);
                    (d, backward(d, xv, wv, yv, dyv, relu, want_dx))
                })
            })
        })
    });
    (
        dx.map(|dx| B::make(dx, [d.p, d.rows, d.input], &x)),
        B::make(dw, [d.p, d.input, d.output], &x),
        B::make(db, [d.p, 1, d.output], &x),
    )
}

// On ndarray the layer is composed of ndarray's own kernels, the ones the unfused layer ran, so
// its numbers are those of the composed layer; it saves the autodiff nodes, not the kernels.
impl PopDense for NdArray {
    fn pop_dense(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, relu: bool) -> FloatTensor<Self> {
        let y = Self::float_add(Self::float_matmul(x, w), b);
        if relu { Self::relu(y) } else { y }
    }
}

impl PopDenseBackward for NdArray {
    fn pop_dense_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        relu: bool,
        want_dx: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>, FloatTensor<Self>) {
        let g = if relu { Self::relu_backward(y, dy) } else { dy };
        let dx = want_dx.then(|| Self::float_matmul(g.clone(), Self::float_transpose(w)));
        let db = Self::float_sum_dim(g.clone(), 1);
        let dw = Self::float_matmul(Self::float_transpose(x), g);
        (dx, dw, db)
    }
}

#[cfg(feature = "flex")]
impl PopDense for Flex {
    fn pop_dense(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, relu: bool) -> FloatTensor<Self> {
        forward_on::<Self>(x, w, b, relu)
    }
}

#[cfg(feature = "flex")]
impl PopDenseBackward for Flex {
    fn pop_dense_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        relu: bool,
        want_dx: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>, FloatTensor<Self>) {
        backward_on::<Self>(x, w, y, dy, relu, want_dx)
    }
}

/// What the backward keeps from the forward: the input, the weights, the output and the
/// activation.
type DenseState<B> = (
    <B as burn::backend::BackendTypes>::FloatTensorPrimitive,
    <B as burn::backend::BackendTypes>::FloatTensorPrimitive,
    <B as burn::backend::BackendTypes>::FloatTensorPrimitive,
    bool,
);

#[derive(Debug)]
struct DenseBackward;

impl<B: PopDenseBackward> Backward<B, 3> for DenseBackward {
    type State = DenseState<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, w, y, relu) = ops.state;
        let dy = grads.consume::<B>(&ops.node);
        let [x_node, w_node, b_node] = ops.parents;
        let (dx, dw, db) = B::pop_dense_backward(x, w, y, dy, relu, x_node.is_some());
        if let (Some(node), Some(dx)) = (x_node, dx) {
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = w_node {
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = b_node {
            grads.register::<B>(node.id, db);
        }
    }
}

impl<B: PopDenseBackward, C: CheckpointStrategy> PopDense for Autodiff<B, C> {
    fn pop_dense(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>, relu: bool) -> FloatTensor<Self> {
        let nodes = [x.node(), w.node(), b.node()];
        let (xp, wp, bp) = (x.primitive().clone(), w.primitive().clone(), b.primitive().clone());
        match DenseBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let y = B::pop_dense(xp.clone(), wp.clone(), bp, relu);
                prep.finish((xp, wp, y.clone(), relu), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::pop_dense(xp, wp, bp, relu)),
        }
    }
}

#[cfg(test)]
mod tests;
