//! Best-of-n (docs/model.md §7) as an evaluation-time policy: draw n responses from the
//! reference policy and keep the one the learned reward model scores highest. With three
//! actions it is exact, no sampling: if F(a) is the reference probability of a response scored
//! below a, and q(a) its own, the best of n is a with probability (F(a) + q(a))ⁿ − F(a)ⁿ.
//! Responses the model scores equally share their group's probability in proportion to q (the
//! first drawn among them is kept).

/// The best-of-`n` distribution over responses with reference probabilities `reference` and
/// reward-model scores `scores`. At n = 1 it is `reference` exactly.
pub fn best_of_n<const K: usize>(reference: [f64; K], scores: [f64; K], n: usize) -> [f64; K] {
    assert!(n >= 1, "best-of-n needs n ≥ 1");
    if n == 1 {
        return reference;
    }
    // Probabilities computed in f32 sum to 1 only within rounding; raised to a large n, an excess
    // of 1e-7 becomes a rate above 1. The distribution is taken as its normalized self, and every
    // cumulative mass as at most 1.
    let total: f64 = reference.iter().sum();
    let reference = reference.map(|q| if total > 0.0 { q / total } else { q });
    let mut out = [0.0; K];
    for a in 0..K {
        // The reference mass scored below a's group, and the mass of a's group.
        let below: f64 = (0..K).filter(|&b| scores[b] < scores[a]).map(|b| reference[b]).sum();
        let group: f64 = (0..K).filter(|&b| scores[b] == scores[a]).map(|b| reference[b]).sum();
        let upto = (below + group).min(1.0);
        let below = below.min(upto);
        // P(best ∈ group) = (below + group)ⁿ − belowⁿ = group · S, with S = 1 at n = 1.
        let s = if group == 0.0 {
            1.0
        } else {
            (pown(upto, n) - pown(below, n)) / group
        };
        out[a] = (reference[a] * s).clamp(0.0, 1.0);
    }
    out
}

/// `x`ⁿ for any n a `usize` holds (`powi` takes an `i32`).
fn pown(x: f64, n: usize) -> f64 {
    i32::try_from(n).map_or_else(|_| x.powf(n as f64), |n| x.powi(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_one_is_the_reference_and_large_n_the_best_response() {
        let q = [0.2, 0.3, 0.5];
        let r = [0.1, 2.0, -1.0];
        assert_eq!(best_of_n(q, r, 1), q);
        let big = best_of_n(q, r, 200);
        assert!(
            (big[1] - 1.0).abs() < 1e-12 && big[0] < 1e-12 && big[2] < 1e-12,
            "{big:?}"
        );
    }

    #[test]
    fn two_draws_by_hand() {
        // Ranking: index 2 < 0 < 1. Best of 2: P(2) = 0.5², P(0) = 0.7² − 0.5², P(1) = 1 − 0.7².
        let p = best_of_n([0.2, 0.3, 0.5], [0.1, 2.0, -1.0], 2);
        let want = [0.49 - 0.25, 1.0 - 0.49, 0.25];
        for (a, b) in p.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{p:?}");
        }
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    /// Against every sequence of n draws enumerated (3ⁿ of them, each with its probability, the
    /// first best-scored kept): the distribution, and its KL to the reference.
    #[test]
    fn matches_enumerating_every_draw() {
        let q = [0.15, 0.6, 0.25];
        let r = [0.3, -0.2, 0.3]; // 0 and 2 tie
        for n in 1..=6 {
            let mut want = [0.0; 3];
            for code in 0..3usize.pow(n as u32) {
                let draws: Vec<usize> = (0..n).map(|i| code / 3usize.pow(i as u32) % 3).collect();
                let p: f64 = draws.iter().map(|&a| q[a]).product();
                let best = draws
                    .iter()
                    .copied()
                    .fold(draws[0], |b, a| if r[a] > r[b] { a } else { b });
                want[best] += p;
            }
            let got = best_of_n(q, r, n);
            for a in 0..3 {
                assert!((got[a] - want[a]).abs() < 1e-12, "n = {n}: {got:?} vs {want:?}");
            }
            let kl = |p: [f64; 3]| -> f64 { (0..3).filter(|&a| p[a] > 0.0).map(|a| p[a] * (p[a] / q[a]).ln()).sum() };
            assert!((kl(got) - kl(want)).abs() < 1e-12);
            // Never more than the continuous bound log n − (n − 1)/n.
            assert!(kl(got) <= (n as f64).ln() - (n as f64 - 1.0) / n as f64 + 1e-12);
        }
    }

    #[test]
    fn a_reference_that_sums_past_one_by_rounding_never_gives_a_rate_above_one() {
        // f32 probabilities converted to f64: their sum is 1 only within rounding.
        let q = [0.2f32 as f64, 0.3f32 as f64, 0.5f32 as f64 + 1e-7];
        assert_eq!(best_of_n(q, [0.1, 2.0, -1.0], 1), q, "n = 1 is the reference itself");
        for n in [2, 100, 10_000, 1_000_000] {
            let p = best_of_n(q, [0.1, 2.0, -1.0], n);
            assert!(p.iter().all(|x| (0.0..=1.0).contains(x)), "n = {n}: {p:?}");
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "n = {n}: {p:?}");
        }
    }

    #[test]
    fn tied_responses_share_their_group_in_proportion_to_the_reference() {
        // 0 and 1 tie above 2: the group gets 1 − 0.5³, split 2 : 3.
        let p = best_of_n([0.2, 0.3, 0.5], [1.0, 1.0, 0.0], 3);
        let group = 1.0 - 0.125;
        assert!(
            (p[0] - group * 0.4).abs() < 1e-12 && (p[1] - group * 0.6).abs() < 1e-12,
            "{p:?}"
        );
        assert!((p[2] - 0.125).abs() < 1e-12);
    }
}
