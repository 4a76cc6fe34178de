//! The conformance suite on the thread backend: every check of `conformance/checks.rs`
//! at 1, 2, 3, 4 and 7 ranks, each job under a deadline (a hang is a failure).

mod common;
mod conformance {
    pub mod checks;
    pub mod icollectives;
    pub mod in_place;
    pub mod requests;
    pub mod scoped;
    pub mod subgrids;
}

use std::time::Duration;

use conformance::checks::{self, Check, CHECKS};
use parsci_comm::{launch, launch_with, Backend, JobOptions};

/// A generous bound for one job in a debug build on a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(20);

fn run(name: &'static str, check: Check) {
    for n in common::SIZES {
        let what = format!("conformance check {name} at {n} ranks");
        let out = common::with_timeout(DEADLINE, &what, move || launch(Backend::Threads(n), check));
        match out {
            Ok(results) => assert_eq!(results.size(), n, "{what}: launch reported the wrong size"),
            Err(e) => panic!("{what} failed:\n{e}"),
        }
    }
}

macro_rules! conformance_tests {
    ($($name:ident)*) => {
        $(
            #[test]
            fn $name() {
                run(stringify!($name), checks::$name);
            }
        )*
        /// The checks that have a test here, to compare with `CHECKS`.
        const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}

conformance_tests! {
    identity layout dims_create_matches_mpi
    p2p_types p2p_sizes p2p_vec p2p_short_message p2p_self p2p_objects
    sendrecv_ring sendrecv_proc_null sendrecv_obj_ring
    tags_select any_tag any_source status_fields probe_then_recv requests_dropped requests_failed requests_leaked request_sets scoped_p2p
    nonblocking nonblocking_large irecv_matches_before_recv non_overtaking ring_overflow
    barrier bcast scatter scatterv gather gatherv allgather allgatherv
    reduce_builtin_ops allreduce_builtin_ops scan_builtin_ops exscan_builtin_ops reductions_f64
    user_op_rank_order user_op_struct in_place_reductions reduce_scatters in_place_mismatches alltoall alltoallv large_collectives collective_sequence
    obj_bcast obj_scatter_gather obj_allgather obj_reduce obj_alltoall
    dup split split_nested cart_topology cart_halo_exchange cart_sub split_shared
    icollectives icollectives_overlap icollectives_mismatch
}

/// Every check in the shared list has its own test here (and the names match).
#[test]
fn every_check_has_a_test() {
    let listed: Vec<&str> = CHECKS.iter().map(|(n, _)| *n).collect();
    let mut a = listed.clone();
    let mut b = TESTED.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "CHECKS and the tests of conformance.rs differ");
    assert_eq!(listed.len(), a.iter().collect::<std::collections::BTreeSet<_>>().len(), "duplicate names in CHECKS");
}

/// The whole list, in order, in one job per size: checks also pass after one another,
/// with state (communicators, sequence numbers) left behind by the previous ones. Each
/// check gets its own `dup`, as `CHECKS` requires: checks use wildcard receives, which
/// would otherwise match the next check's first messages from a rank that is ahead.
#[test]
fn all_checks_in_one_job() {
    for n in [3, 4] {
        all_checks(n, &JobOptions::default(), "in one job", Duration::from_secs(60));
    }
}

/// The whole list in strict mode (sends complete only once matched, as `MPI_Ssend`): the
/// checks are correct MPI programs, so none may depend on sends being buffered.
#[test]
fn all_checks_with_synchronous_sends() {
    for n in common::SIZES {
        all_checks(n, &JobOptions::default().with_sync_sends(), "in strict mode", Duration::from_secs(120));
    }
}

/// Runs every check of `CHECKS`, each on its own `dup`, in one job of `n` ranks.
fn all_checks(n: usize, options: &JobOptions, how: &str, limit: Duration) {
    let what = format!("all checks {how} at {n} ranks");
    let options = options.clone();
    let out = common::with_timeout(limit, &what, move || {
        launch_with(Backend::Threads(n), &options, |comm| {
            for (name, check) in CHECKS {
                let own = comm.dup().map_err(|e| format!("dup for {name}: {e}"))?;
                check(&own).map_err(|e| format!("{name}: {e}"))?;
            }
            Ok::<_, String>(())
        })
    });
    if let Err(e) = out {
        panic!("{what} failed:\n{e}");
    }
}
