//! The fused layer against the same layer composed of burn's operations.

use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::pop_dense;

fn random(shape: [usize; 3], rng: &mut ChaCha8Rng, device: &Device) -> Tensor<3> {
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn values(t: Tensor<3>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32")
}

/// The output and the gradients of `x`, `W` and `b` under the loss `Σ y ⊙ r`, for the fused
/// layer or for the same layer composed of burn's product, broadcast add and ReLU.
fn run(device: &Device, fused: bool, relu: bool, track_x: bool, shape: (usize, usize, usize, usize)) -> Vec<Vec<f32>> {
    let (p, rows, input, output) = shape;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let d = device.clone().autodiff();
    let x = random([p, rows, input], &mut rng, &d);
    let x = if track_x { x.require_grad() } else { x };
    let w = random([p, input, output], &mut rng, &d).require_grad();
    let b = random([p, 1, output], &mut rng, &d).require_grad();
    let r = random([p, rows, output], &mut rng, &d);
    let y = if fused {
        pop_dense(x.clone(), w.clone(), b.clone(), relu)
    } else {
        let z = x.clone().matmul(w.clone()) + b.clone();
        if relu { activation::relu(z) } else { z }
    };
    let grads = (y.clone() * r).sum().backward();
    let mut out = vec![
        values(y.inner()),
        values(w.grad(&grads).unwrap()),
        values(b.grad(&grads).unwrap()),
    ];
    if track_x {
        out.push(values(x.grad(&grads).unwrap()));
    }
    out
}

/// Bits, with every NaN counted as one value (its payload is not part of the contract).
fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
}

/// A NaN in the input travels as it does through the composed layer: burn's ReLU passes
/// it on, and its gradient too, so a diverging member stays visible.
#[test]
#[allow(deprecated)]
fn a_nan_travels_as_through_the_composed_layer() {
    let mut devices = vec![Device::ndarray()];
    #[cfg(feature = "flex")]
    devices.push(Device::flex());
    for device in devices {
        for relu in [true, false] {
            let run = |fused: bool| {
                let d = device.clone().autodiff();
                let mut v: Vec<f32> = (0..2 * 3 * 4).map(|i| (i as f32 - 10.0) / 7.0).collect();
                v[5] = f32::NAN;
                let x = Tensor::<3>::from_data(TensorData::new(v, [2, 3, 4]), &d).require_grad();
                let w = Tensor::<3>::from_data(TensorData::new(vec![0.5f32; 2 * 4 * 2], [2, 4, 2]), &d).require_grad();
                let b = Tensor::<3>::from_data(TensorData::new(vec![-0.1f32; 4], [2, 1, 2]), &d).require_grad();
                let y = if fused {
                    pop_dense(x.clone(), w.clone(), b.clone(), relu)
                } else {
                    let z = x.clone().matmul(w.clone()) + b.clone();
                    if relu { activation::relu(z) } else { z }
                };
                let grads = y.clone().sum().backward();
                [
                    values(y.inner()),
                    values(w.grad(&grads).unwrap()),
                    values(x.grad(&grads).unwrap()),
                ]
            };
            let (fused, composed) = (run(true), run(false));
            assert!(fused[0].iter().any(|v| v.is_nan()), "the NaN reaches the output");
            for (k, (a, b)) in fused.iter().zip(&composed).enumerate() {
                assert!(same(a, b), "relu {relu}: output {k}: {a:?} vs {b:?}");
            }
        }
    }
}

/// The fused layer computes exactly what the composed one does, forward and backward, on
/// both backends: the same kernels in the same order, so the same bits. Shapes include the
/// policy's (batch 256, widths 24, 64, 3) and odd ones.
#[test]
#[allow(deprecated)]
fn the_fused_layer_gives_the_composed_layers_bits() {
    let mut devices = vec![("ndarray", Device::ndarray())];
    #[cfg(feature = "flex")]
    devices.push(("flex", Device::flex()));
    for (name, device) in devices {
        for shape in [(2, 256, 24, 64), (3, 256, 64, 3), (1, 7, 5, 1), (4, 33, 17, 9)] {
            for relu in [true, false] {
                for track_x in [true, false] {
                    let fused = run(&device, true, relu, track_x, shape);
                    let composed = run(&device, false, relu, track_x, shape);
                    assert_eq!(fused.len(), composed.len());
                    for (k, (a, b)) in fused.iter().zip(&composed).enumerate() {
                        let same = a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(
                            same,
                            "{name} {shape:?} relu {relu}: output {k} differs (0 y, 1 dW, 2 db, 3 dx)"
                        );
                    }
                    // Not vacuous: every output and gradient has entries away from zero.
                    assert!(fused.iter().all(|v| v.iter().any(|&g| g != 0.0)));
                }
            }
        }
    }
}
