//! The pool that follows a [`Plan`]: each task runs as soon as the tasks it waits for are done,
//! a free thread taking the ready task of highest rank.

use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex};

use super::Plan;

/// Runs a plan's tasks on `threads` threads, each as soon as the tasks it waits for are done, a
/// free thread taking the ready task of highest rank; `work(task)` does one. Returns each task's
/// result, in task order.
pub fn execute<T: Send>(plan: &Plan, threads: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    struct State<T> {
        waiting: Vec<usize>,
        ready: BinaryHeap<(u64, std::cmp::Reverse<usize>)>,
        results: Vec<Option<T>>,
        left: usize,
    }
    let tasks = &plan.tasks;
    let mut dependents = vec![Vec::new(); tasks.len()];
    for (i, t) in tasks.iter().enumerate() {
        for &d in &t.after {
            dependents[d].push(i);
        }
    }
    // Ranks as ordered integers (they are finite and non-negative).
    let priority = |i: usize| (tasks[i].rank * 1e6) as u64;
    let state = Mutex::new(State {
        waiting: tasks.iter().map(|t| t.after.len()).collect(),
        ready: (0..tasks.len())
            .filter(|&i| tasks[i].after.is_empty())
            .map(|i| (priority(i), std::cmp::Reverse(i)))
            .collect(),
        results: (0..tasks.len()).map(|_| None).collect(),
        left: tasks.len(),
    });
    let wake = Condvar::new();
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, tasks.len().max(1)) {
            s.spawn(|| {
                loop {
                    let task = {
                        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if let Some((_, std::cmp::Reverse(t))) = st.ready.pop() {
                                break Some(t);
                            }
                            if st.left == 0 {
                                break None;
                            }
                            st = wake.wait(st).unwrap_or_else(|e| e.into_inner());
                        }
                    };
                    let Some(task) = task else { return };
                    let result = work(task);
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    st.results[task] = Some(result);
                    st.left -= 1;
                    for &d in &dependents[task] {
                        st.waiting[d] -= 1;
                        if st.waiting[d] == 0 {
                            st.ready.push((priority(d), std::cmp::Reverse(d)));
                        }
                    }
                    wake.notify_all();
                }
            });
        }
    });
    state
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .results
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use super::super::tests::runs;
    use super::*;
    use crate::experiment::RunSpec;

    #[test]
    fn the_pool_runs_each_task_once_after_the_tasks_it_waits_for() {
        let runs = runs();
        let refs: Vec<&RunSpec> = runs.iter().collect();
        let plan = plan(&refs, 3, None, |_| false);
        let done = Mutex::new(Vec::new());
        let order = execute(&plan, 3, |t| {
            let mut done = done.lock().unwrap();
            for &a in &plan.tasks[t].after {
                assert!(done.contains(&a), "task {t} ran before task {a}");
            }
            done.push(t);
            t
        });
        assert_eq!(
            order,
            (0..plan.tasks.len()).collect::<Vec<_>>(),
            "results in task order"
        );
    }
}

/// Lowers the calling thread's scheduling priority (Linux: `nice` 10 for this thread alone, or
/// what it had if that was lower already; an unprivileged thread cannot raise it again, so call
/// it only on a thread that ends with its work). Elsewhere, does nothing.
pub fn give_way() {
    #[cfg(target_os = "linux")]
    // SAFETY: `gettid`, `getpriority` and `setpriority` read and set this thread's own
    // priority; a failure leaves it as it was, which is fine.
    unsafe {
        let me = libc::gettid() as libc::id_t;
        if libc::getpriority(libc::PRIO_PROCESS, me) < 10 {
            libc::setpriority(libc::PRIO_PROCESS, me, 10);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod giving_way {
    use super::give_way;

    /// This thread's `nice` value.
    fn nice() -> i32 {
        // SAFETY: reads this thread's own priority.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[test]
    fn giving_way_lowers_the_calling_thread_alone() {
        let before = nice();
        let (inside, sibling) = std::thread::scope(|s| {
            let giver = s.spawn(|| {
                let start = nice();
                give_way();
                (start, nice())
            });
            let (start, after) = giver.join().unwrap();
            (
                (start, after),
                s.spawn(nice).join().unwrap(), // a thread started after it
            )
        });
        assert_eq!(inside.1, 10.max(inside.0), "the thread gives way: {inside:?}");
        assert_eq!(nice(), before, "the caller's priority is untouched");
        assert_eq!(sibling, before, "other threads keep theirs");
    }
}
