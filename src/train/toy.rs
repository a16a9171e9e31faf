//! A test's toy algorithm, registered in `config::algorithms!` under `cfg(test)` to prove the
//! walk-through in docs/extending.md: sign-REINFORCE, whose loss is −mean(sign(A) · log π), so
//! every answer better than the rest of its batch is pushed up by the same amount. One file and
//! one registry line; nothing else names it.

use super::losses::member_mean;
use super::step::{Step, Update};

/// The toy algorithm (`pressure.algorithm = "toy"`, in tests only).
pub struct Toy;

impl Update for Toy {
    fn update(&self, step: &mut Step<'_>) {
        let mut rollout = step.rollout();
        let fixed = step.regularizers(&rollout);
        let heads = rollout.take_heads().expect("a fresh rollout has its heads");
        let (loss, kl) = step.loss(heads, &rollout, &fixed, &|_, log_probs, advantages, _| {
            let n = log_probs.dims()[1];
            member_mean(-(log_probs * advantages.sign()), n)
        });
        step.optimize(loss, Some(kl), true);
    }
}
