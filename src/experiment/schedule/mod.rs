//! The schedule: which runs train together and in what order on `J` threads, as one pure
//! function of the run list, the cost of each run's phases and `J`, and the pool that follows it.
//!
//! Work comes as two kinds of task: a *constitution* task trains the constitutions of some
//! distinct seeds and settings as one population; a *pressure* task trains a population of runs
//! from their constitutions through every RL phase. A pressure task may start as soon as the
//! constitution tasks of its members are done; nothing waits for a whole phase. Populations are
//! made of runs of one shape, ordered by the constitution they start from, so an early pressure
//! task waits for few constitutions; their size is chosen by simulating the schedule for a range
//! of sizes and keeping the one that ends first (the largest populations among equals, as they
//! cost the least CPU), never below [`efficient_population`] where the group has that many runs
//! (constitution tasks, at the head of every chain, may be smaller).
//! A free thread takes the ready task with the longest chain of work after it (longest first).
//!
//! Results never depend on the schedule: a member's numbers do not depend on its population or
//! on when it trains (tested), so the schedule decides only how fast.

use std::collections::HashMap;

mod pool;

pub use pool::{execute, give_way};

use super::budget::phase_seconds;
use super::runs::RunSpec;
use crate::run::{constitution_key, constitution_shape, shape_key};

/// Seed-steps per second of a population of each size relative to one seed alone: `pressure
/// bench` on one thread (flex, the default policy and batch: 1196, 1597, 2443, 2469, 2286, 2282
/// seed-steps/s at populations 1 to 32).
const BATCHING: [(usize, f64); 6] = [(1, 1.0), (2, 1.335), (4, 2.043), (8, 2.064), (16, 1.911), (32, 1.908)];

/// The largest population the scheduler makes (beyond it a population leaves the caches).
pub const MAX_POPULATION: usize = 8;

/// A population of `size` trains this many times as many seed-steps a second as one seed alone.
pub fn speedup(size: usize) -> f64 {
    let s = size.max(1) as f64;
    let last = BATCHING[BATCHING.len() - 1];
    if size >= last.0 {
        return last.1;
    }
    // Linear in log2(size) between the measured sizes.
    let i = BATCHING
        .iter()
        .position(|&(n, _)| n > size)
        .expect("below the last size");
    let ((a, fa), (b, fb)) = (BATCHING[i - 1], BATCHING[i]);
    let t = (s.log2() - (a as f64).log2()) / ((b as f64).log2() - (a as f64).log2());
    fa + t * (fb - fa)
}

/// The smallest population that trains at 95% of the best per-seed rate: below it batching's
/// gain is lost, so the scheduler makes no smaller one where a group has that many runs.
pub fn efficient_population() -> usize {
    let best = BATCHING.iter().map(|&(_, f)| f).fold(0.0, f64::max);
    BATCHING.iter().find(|&&(_, f)| f >= 0.95 * best).map_or(1, |&(n, _)| n)
}

/// The population size for `runs` runs on `threads` threads when they are too few for
/// [`efficient_population`]-sized populations to fill every thread (a demo scene's five seeds
/// on two): an even split over the threads, which ends sooner for some batching lost; `None`
/// where the plan's own choice fills them. For a caller who waits on the result (the demo);
/// the plan itself keeps batching's efficiency, the least CPU for a job. The numbers do not
/// depend on it.
pub fn spread(runs: usize, threads: usize) -> Option<usize> {
    (threads > 1 && runs > 1 && runs < threads * efficient_population()).then(|| runs.div_ceil(threads))
}

/// What a task trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Constitution,
    Pressure,
}

/// One task: its members (indices into the run list given to [`plan`]: for a constitution task,
/// one run standing for each distinct constitution), the tasks it waits for, and its cost.
#[derive(Debug, Clone)]
pub struct Task {
    pub kind: Kind,
    pub members: Vec<usize>,
    pub after: Vec<usize>,
    pub cost: f64,
    /// Its cost plus the longest chain of tasks waiting for it: the priority of a free thread.
    pub rank: f64,
}

/// A schedule: the tasks, the simulated end of the last, and what no schedule can beat.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tasks: Vec<Task>,
    pub threads: usize,
    /// When the simulated schedule ends, in the cost model's seconds.
    pub makespan: f64,
    /// What no schedule that keeps batching can beat: the largest of the work at the best
    /// batching over the threads, the longest chain (one run's constitution alone, then its RL
    /// phases in the smallest population allowed), and the quickest constitution followed by
    /// the RL work of the runs waiting for one, over the threads.
    pub lower_bound: f64,
}

impl Plan {
    /// The sizes of the plan's populations of one kind, smallest first.
    pub fn sizes(&self, kind: Kind) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .tasks
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.members.len())
            .collect();
        sizes.sort_unstable();
        sizes
    }
}

/// Cuts `items` into `k` contiguous near-equal chunks.
fn chunks<T: Clone>(items: &[T], k: usize) -> Vec<Vec<T>> {
    let k = k.clamp(1, items.len().max(1));
    let (base, extra) = (items.len() / k, items.len() % k);
    let mut at = 0;
    (0..k)
        .map(|c| {
            let len = base + usize::from(c < extra);
            let chunk = items[at..at + len].to_vec();
            at += len;
            chunk
        })
        .collect()
}

/// Groups indices by key, in first-seen order.
fn groups_by(indices: impl IntoIterator<Item = usize>, key: impl Fn(usize) -> String) -> Vec<Vec<usize>> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for i in indices {
        let k = key(i);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(i),
            None => groups.push((k, vec![i])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// The populations of each group for `target` populations over all `total` runs: each group
/// gets its share, within sizes `min(smallest, n)..=MAX_POPULATION` (or exactly `size`).
fn populations(
    groups: &[Vec<usize>],
    total: usize,
    target: usize,
    size: Option<usize>,
    smallest: usize,
) -> Vec<Vec<usize>> {
    groups
        .iter()
        .flat_map(|g| {
            let n = g.len();
            let k = match size {
                Some(s) => n.div_ceil(s.max(1)),
                None => {
                    let most = (n / smallest.clamp(1, n)).max(1);
                    let least = n.div_ceil(MAX_POPULATION).min(most);
                    (n * target).div_ceil(total.max(1)).clamp(least, most)
                }
            };
            chunks(g, k)
        })
        .collect()
}

/// Simulates list scheduling on `threads` threads: a free thread takes the ready task of highest
/// rank (the lowest index among equals). Returns when the last task ends.
fn simulate(tasks: &[Task], threads: usize) -> f64 {
    let mut waiting: Vec<usize> = tasks.iter().map(|t| t.after.len()).collect();
    let mut dependents = vec![Vec::new(); tasks.len()];
    for (i, t) in tasks.iter().enumerate() {
        for &d in &t.after {
            dependents[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..tasks.len()).filter(|&i| waiting[i] == 0).collect();
    // (end time, task) of the tasks in flight.
    let mut running: Vec<(f64, usize)> = Vec::new();
    let (mut now, mut end) = (0.0f64, 0.0f64);
    loop {
        while running.len() < threads && !ready.is_empty() {
            let best = (0..ready.len())
                .max_by(|&a, &b| {
                    let (ta, tb) = (&tasks[ready[a]], &tasks[ready[b]]);
                    ta.rank.total_cmp(&tb.rank).then(ready[b].cmp(&ready[a]))
                })
                .expect("a ready task");
            let task = ready.swap_remove(best);
            running.push((now + tasks[task].cost, task));
        }
        let Some(next) = (0..running.len()).min_by(|&a, &b| running[a].0.total_cmp(&running[b].0)) else {
            break;
        };
        let (at, task) = running.swap_remove(next);
        now = at;
        end = end.max(at);
        for &d in &dependents[task] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    end
}

/// Sets each task's rank: its cost plus the largest rank among the tasks that wait for it.
fn rank(tasks: &mut [Task]) {
    // Constitution tasks come first in the list and pressure tasks wait only for them.
    for i in (0..tasks.len()).rev() {
        let after = tasks
            .iter()
            .filter(|t| t.after.contains(&i))
            .map(|t| t.rank)
            .fold(0.0, f64::max);
        tasks[i].rank = tasks[i].cost + after;
    }
}

/// The tasks for given pressure populations and constitution task count.
fn tasks_for(
    runs: &[&RunSpec],
    costs: &[(f64, f64)],
    constitutions: &[Vec<usize>],
    pressure: Vec<Vec<usize>>,
    key_task: &HashMap<String, usize>,
) -> Vec<Task> {
    let key = |i: usize| constitution_key(runs[i].seed, &runs[i].config);
    let mut tasks: Vec<Task> = constitutions
        .iter()
        .map(|members| Task {
            kind: Kind::Constitution,
            cost: members.iter().map(|&i| costs[i].0).sum::<f64>() / speedup(members.len()),
            members: members.clone(),
            after: Vec::new(),
            rank: 0.0,
        })
        .collect();
    for members in pressure {
        let mut after: Vec<usize> = members.iter().filter_map(|&i| key_task.get(&key(i)).copied()).collect();
        after.sort_unstable();
        after.dedup();
        tasks.push(Task {
            kind: Kind::Pressure,
            cost: members.iter().map(|&i| costs[i].1).sum::<f64>() / speedup(members.len()),
            members,
            after,
            rank: 0.0,
        });
    }
    rank(&mut tasks);
    tasks
}

/// What no schedule that keeps batching can beat, from the runs' phase costs, the runs standing
/// for the constitutions to train, the runs' shape groups and `kept`: see [`Plan::lower_bound`].
fn lower_bound(
    costs: &[(f64, f64)],
    firsts: &[usize],
    pressure_groups: &[Vec<usize>],
    kept: &impl Fn(usize) -> bool,
    threads: usize,
) -> f64 {
    let top = BATCHING.iter().map(|&(_, f)| f).fold(0.0, f64::max);
    let work = firsts.iter().map(|&i| costs[i].0).sum::<f64>() / top + costs.iter().map(|c| c.1).sum::<f64>() / top;
    // The smallest population a run can train in: its group cut into as many populations as
    // keep each at the efficient size, the largest of them.
    let smallest = |i: usize| {
        let n = pressure_groups.iter().find(|g| g.contains(&i)).map_or(1, Vec::len);
        let e = efficient_population();
        let s = if n < e { n } else { n.div_ceil(n / e) };
        s as f64 / speedup(s)
    };
    let chain = (0..costs.len())
        .map(|i| if kept(i) { 0.0 } else { costs[i].0 } + costs[i].1 * smallest(i))
        .fold(0.0, f64::max);
    // No RL phase starts before the first constitution is trained (the quickest alone): the
    // RL work is done after it.
    let head = firsts.iter().map(|&i| costs[i].0).fold(f64::INFINITY, f64::min);
    let rl_work = (0..costs.len()).filter(|&i| !kept(i)).map(|i| costs[i].1).sum::<f64>() / top;
    let after_head = if firsts.is_empty() {
        0.0
    } else {
        head + rl_work / threads as f64
    };
    (work / threads as f64).max(chain).max(after_head)
}

/// Plans `runs` on `threads` threads. `kept(i)` says that run `i`'s constitution exists already
/// (kept from an earlier call, or in the cache); `size` fixes the population size
/// (`--population`) instead of choosing it.
pub fn plan(runs: &[&RunSpec], threads: usize, size: Option<usize>, kept: impl Fn(usize) -> bool) -> Plan {
    let threads = threads.max(1);
    let costs: Vec<(f64, f64)> = runs.iter().map(|r| phase_seconds(&r.config)).collect();
    let key = |i: usize| constitution_key(runs[i].seed, &runs[i].config);

    // One run stands for each constitution to train, in run-list order.
    let mut firsts: Vec<usize> = Vec::new();
    let mut seen = HashMap::new();
    for i in 0..runs.len() {
        if !kept(i) && !seen.contains_key(&key(i)) {
            seen.insert(key(i), firsts.len());
            firsts.push(i);
        }
    }
    // Runs of one shape, ordered by the constitution they start from.
    let order = |i: usize| seen.get(&key(i)).copied().unwrap_or(usize::MAX);
    let mut pressure_groups = groups_by(0..runs.len(), |i| shape_key(&runs[i].config));
    for g in &mut pressure_groups {
        g.sort_by_key(|&i| (order(i), i));
    }
    let constitution_groups = groups_by(firsts.iter().copied(), |i| constitution_shape(&runs[i].config));

    // Population counts to try: every count up to the threads, multiples of the threads, and
    // the counts at the largest and the efficient sizes.
    let candidates = |n: usize| -> Vec<usize> {
        let mut c: Vec<usize> = (1..=threads.min(n)).collect();
        c.extend((1..=8).map(|m| (threads * m).min(n)));
        c.extend([n.div_ceil(MAX_POPULATION), n.div_ceil(efficient_population()), n]);
        c.retain(|&k| (1..=n.max(1)).contains(&k));
        c.sort_unstable();
        c.dedup();
        c
    };
    let (n_runs, n_firsts) = (runs.len(), firsts.len());
    let key_tasks = |constitutions: &[Vec<usize>]| -> HashMap<String, usize> {
        constitutions
            .iter()
            .enumerate()
            .flat_map(|(t, members)| members.iter().map(move |&i| (key(i), t)))
            .collect()
    };
    // (makespan, task count, constitution populations, pressure populations, tasks)
    type Candidate = (f64, usize, Vec<Vec<usize>>, Vec<Vec<usize>>, Vec<Task>);
    let evaluate = |constitutions: Vec<Vec<usize>>, pressure: Vec<Vec<usize>>| -> Candidate {
        let tasks = tasks_for(
            runs,
            &costs,
            &constitutions,
            pressure.clone(),
            &key_tasks(&constitutions),
        );
        let makespan = simulate(&tasks, threads);
        (makespan, tasks.len(), constitutions, pressure, tasks)
    };
    // Shorter first; among schedules within a thousandth, fewer (larger) populations.
    let better = |a: &Candidate, b: &Candidate| a.0 < b.0 * 0.999 || (a.0 <= b.0 * 1.001 && a.1 < b.1);
    let mut best: Option<Candidate> = None;
    let pressure_targets = if size.is_some() { vec![1] } else { candidates(n_runs) };
    let constitution_targets = if size.is_some() || n_firsts == 0 {
        vec![1]
    } else {
        candidates(n_firsts)
    };
    for &ct in &constitution_targets {
        // A constitution task may be small: it stands at the head of every chain.
        let constitutions = populations(&constitution_groups, n_firsts, ct, size, 1);
        for &pt in &pressure_targets {
            let pressure = populations(&pressure_groups, n_runs, pt, size, efficient_population());
            let candidate = evaluate(constitutions.clone(), pressure);
            if best.as_ref().is_none_or(|b| better(&candidate, b)) {
                best = Some(candidate);
            }
        }
    }
    // Then, while it helps, the constitution task at the head of the longest chain is split
    // into one task per constitution, so that the chain starts sooner.
    if size.is_none() {
        while let Some(current) = best.clone() {
            let (_, _, constitutions, pressure, tasks) = &current;
            let Some(head) = (0..constitutions.len())
                .filter(|&t| constitutions[t].len() > 1)
                .max_by(|&a, &b| tasks[a].rank.total_cmp(&tasks[b].rank))
            else {
                break;
            };
            let mut split = constitutions.clone();
            let members = split.remove(head);
            split.extend(members.into_iter().map(|m| vec![m]));
            let candidate = evaluate(split, pressure.clone());
            if !better(&candidate, &current) {
                break;
            }
            best = Some(candidate);
        }
    }
    // And, while it helps, the costliest population gives a run to the cheapest of its shape
    // (each staying within the sizes allowed): near-equal chunks are not always the best cut.
    if size.is_none() {
        let shape = |i: usize| shape_key(&runs[i].config);
        let least = |n_group: usize| efficient_population().min(n_group);
        for _ in 0..4 * runs.len() {
            let Some(current) = best.clone() else { break };
            let (_, _, constitutions, pressure, _) = &current;
            let cost = |p: &Vec<usize>| p.iter().map(|&i| costs[i].1).sum::<f64>() / speedup(p.len());
            let Some(donor) = (0..pressure.len()).max_by(|&a, &b| cost(&pressure[a]).total_cmp(&cost(&pressure[b])))
            else {
                break;
            };
            let group = pressure_groups
                .iter()
                .find(|g| g.contains(&pressure[donor][0]))
                .map_or(0, Vec::len);
            let Some(taker) = (0..pressure.len())
                .filter(|&t| {
                    t != donor
                        && shape(pressure[t][0]) == shape(pressure[donor][0])
                        && pressure[t].len() < MAX_POPULATION
                        && pressure[donor].len() > least(group)
                })
                .min_by(|&a, &b| cost(&pressure[a]).total_cmp(&cost(&pressure[b])))
            else {
                break;
            };
            let mut moved = pressure.clone();
            let run = moved[donor].pop().expect("a donor has runs");
            moved[taker].push(run);
            let candidate = evaluate(constitutions.clone(), moved);
            if !better(&candidate, &current) {
                break;
            }
            best = Some(candidate);
        }
    }
    let best = best.map(|(m, c, _, _, t)| (m, c, t));
    let (makespan, _, tasks) = best.unwrap_or((0.0, 0, Vec::new()));

    Plan {
        tasks,
        threads,
        makespan,
        lower_bound: lower_bound(&costs, &firsts, &pressure_groups, &kept, threads),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::experiment::{Experiment, expand};
    use crate::run::shape_key;
    use std::path::Path;

    /// A run list of three arms: two of one shape (they differ in reward), one of another.
    pub(crate) fn runs() -> Vec<RunSpec> {
        let text = "seeds = 5\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\nreward.kind = \"principled\"\n[[arms]]\nname = \"c\"\npolicy.hidden = [8]\n";
        expand(&Experiment::parse(text, Path::new("t.toml"), &[]).unwrap())
    }

    #[test]
    fn populations_share_shapes_and_cover_every_run_once() {
        let runs = runs();
        let refs: Vec<&RunSpec> = runs.iter().collect();
        for jobs in [1, 2, 3, 16] {
            let plan = plan(&refs, jobs, None, |_| false);
            let pressure: Vec<&Task> = plan.tasks.iter().filter(|t| t.kind == Kind::Pressure).collect();
            let mut seen: Vec<usize> = pressure.iter().flat_map(|t| t.members.iter().copied()).collect();
            seen.sort();
            assert_eq!(seen, (0..runs.len()).collect::<Vec<_>>());
            for t in &pressure {
                assert!(t.members.len() <= MAX_POPULATION);
                let key = shape_key(&runs[t.members[0]].config);
                assert!(t.members.iter().all(|&i| shape_key(&runs[i].config) == key));
                // It waits for the constitution tasks of its members, and for no other.
                for &c in &t.after {
                    assert_eq!(plan.tasks[c].kind, Kind::Constitution);
                }
            }
            // Arms a and b share their constitutions (seed by seed); c's differ (its policy).
            let constitutions: usize = plan.sizes(Kind::Constitution).iter().sum();
            assert_eq!(constitutions, 10, "{jobs} threads");
        }
        // Arms a and b share shapes (only the reward differs); c does not.
        assert_eq!(plan(&refs, 1, Some(20), |_| false).sizes(Kind::Pressure), [5, 10]);
        // Constitutions that exist are not trained again.
        let p = plan(&refs, 2, None, |_| true);
        assert!(p.tasks.iter().all(|t| t.kind == Kind::Pressure && t.after.is_empty()));
    }

    #[test]
    fn batching_is_interpolated_and_four_is_efficient() {
        assert_eq!(speedup(1), 1.0);
        assert!((speedup(8) - 2.064).abs() < 1e-12);
        assert!(speedup(2) < speedup(3) && speedup(3) < speedup(4));
        assert_eq!(efficient_population(), 4);
    }
}
