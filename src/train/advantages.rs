//! Advantages of sampled answers: each reward minus a baseline, so the policy gradient pushes
//! toward answers better than the rest of the batch and away from worse ones.

/// Advantages with a leave-one-out baseline: each reward minus the mean of the others
/// (0 for a batch of one).
pub fn leave_one_out(rewards: &[f64]) -> Vec<f32> {
    let n = rewards.len();
    if n < 2 {
        return vec![0.0; n];
    }
    let total: f64 = rewards.iter().sum();
    rewards
        .iter()
        .map(|&r| (r - (total - r) / (n - 1) as f64) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_out_subtracts_the_mean_of_the_others() {
        let a = leave_one_out(&[1.0, -1.0, 1.0, 1.0]);
        let want = [2.0 / 3.0, -2.0, 2.0 / 3.0, 2.0 / 3.0];
        assert!(a.iter().zip(want).all(|(x, w)| (x - w).abs() < 1e-6), "{a:?}");
        assert_eq!(leave_one_out(&[2.0, 2.0, 2.0]), vec![0.0; 3]);
        assert_eq!(leave_one_out(&[5.0]), vec![0.0]);
    }
}
