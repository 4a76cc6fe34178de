//! The Hockney model's formulas against values computed by hand.

use parsci_apps::heat::{Boundary, Heat};
use parsci_apps::matmul::Matmul;
use parsci_apps::scaling::model::{
    heat_cost, matmul_cost, model_figure, parse_bandwidth, parse_latency, predict, train_cost, train_params, Allreduce,
    Machine, Network, Workload,
};
use parsci_apps::train::{Optimizer, Train};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-300) + 1e-18
}

fn machine(alpha: f64, bw: f64, rate: f64) -> Machine {
    Machine { net: Network::new(alpha, bw).unwrap(), rate, cores: None, hosts: None, overlap: false }
}

#[test]
fn collectives_cost_what_the_textbook_says() {
    let net = Network::new(2e-6, 1e10).unwrap();
    // Ring on 8 ranks, 8 MB: 2 * 7 * 2 us + 2 * 7/8 * 8e6 / 1e10 s.
    assert!(close(net.allreduce(Allreduce::Ring, 8, 8e6), 2.8e-5 + 1.4e-3));
    // Tree on 5 ranks: ceil(log2 5) = 3 rounds up and 3 down.
    assert!(close(net.allreduce(Allreduce::Tree, 5, 1e3), 6.0 * (2e-6 + 1e-7)));
    assert!(close(net.bcast(4096, 8.0), 12.0 * (2e-6 + 8e-10)));
    assert_eq!(net.bcast(1, 1e9), 0.0);
    assert_eq!(net.allreduce(Allreduce::Tree, 1, 1e9), 0.0);
    // For a large gradient on many ranks, the ring wins; for a small one, the tree.
    assert!(net.allreduce(Allreduce::Ring, 4096, 1e8) < net.allreduce(Allreduce::Tree, 4096, 1e8));
    assert!(net.allreduce(Allreduce::Tree, 4096, 8.0) < net.allreduce(Allreduce::Ring, 4096, 8.0));
}

#[test]
fn heat_with_deep_halos_on_a_periodic_column_of_ranks() {
    // 1 x 3 grid of 300 x 100 blocks, periodic along y: 2 neighbours; depth 4: a pass of 4
    // steps sends 4 rows each way and recomputes 3 + 2 + 1 + 0 extra rows per side.
    let h = Heat {
        nx: 300,
        ny: 300,
        steps: 32,
        procs: Some([1, 3]),
        bc_y: Boundary::Periodic,
        halo_depth: Some(4),
        ..Heat::default()
    };
    let m = machine(5e-6, 1e9, 1e8);
    let c = heat_cost(&h, 3, &m).unwrap();
    assert_eq!(c.grid, Some([1, 3]));
    assert!(close(c.compute_s, 32.0 * (30_000.0 + 2.0 * 1.5 * 300.0) / 1e8));
    assert!(close(c.comm_s, 8.0 * (5e-6 + 8.0 * 4.0 * 600.0 / 1e9)));
    assert!(close(c.time_s, c.compute_s + c.comm_s));
    // With overlap, the larger of the two.
    let c = heat_cost(&h, 3, &Machine { overlap: true, ..m }).unwrap();
    assert!(close(c.time_s, c.compute_s.max(c.comm_s)));
    // Two ranks sharing one core compute at half speed each.
    let one = heat_cost(&Heat { procs: Some([1, 2]), ..h.clone() }, 2, &m).unwrap();
    let on_one = Machine { cores: Some(1), hosts: Some(1), ..m };
    let shared = heat_cost(&Heat { procs: Some([1, 2]), ..h.clone() }, 2, &on_one).unwrap();
    assert!(close(shared.compute_s, 2.0 * one.compute_s));
    // On two hosts of one core each, they do not share.
    let apart =
        heat_cost(&Heat { procs: Some([1, 2]), ..h.clone() }, 2, &Machine { hosts: Some(2), ..on_one }).unwrap();
    assert!(close(apart.compute_s, one.compute_s));
    // Without a host count, a cluster gives every rank a core.
    let grown = heat_cost(&Heat { procs: Some([1, 2]), ..h.clone() }, 2, &Machine { hosts: None, ..on_one }).unwrap();
    assert!(close(grown.compute_s, one.compute_s));
    // A grid too small for the ranks cannot be predicted.
    assert!(heat_cost(&Heat { nx: 4, ny: 4, ..Heat::default() }, 4096, &m).is_none());
}

#[test]
fn summa_broadcasts_panels_of_a_along_the_grid_rows() {
    // 4 x 1 grid: C's blocks are 400 x 100; panels at most 12 wide (a quarter of the block
    // of C over two sets of A panels: 400 * 100 / 4 / 800), 9 in each of K's 4 blocks of 100.
    let mm = Matmul { procs: Some([4, 1]), ..Matmul::new(400, 400, 400) };
    let m = machine(1e-5, 1e9, 1e9);
    let c = matmul_cost(&mm, 4, &m).unwrap();
    assert!(close(c.compute_s, 2.0 * 400.0 * 100.0 * 400.0 / 1e9));
    // Every panel: 2 rounds over 4 ranks of 400 x w doubles; the widths add up to K.
    assert!(close(c.comm_s, 2.0 * (36.0 * 1e-5 + 8.0 * 400.0 * 400.0 / 1e9)));
}

#[test]
fn the_lesson_strategies_pay_their_collectives_before_and_after_the_product() {
    use parsci_apps::matmul::Strategy;
    // 1000 x 1000 x 1000 on 4 ranks (row blocks of 250), 10 us and 1 GB/s, overlap asked for.
    let m = Machine { overlap: true, ..machine(1e-5, 1e9, 1e10) };
    let br = Matmul { strategy: Strategy::BcastReduce, ..Matmul::new(1000, 1000, 1000) };
    let c = matmul_cost(&br, 4, &m).unwrap();
    assert_eq!(c.grid, Some([1, 4]));
    assert!(close(c.compute_s, 2.0 * 250.0 * 1000.0 * 1000.0 / 1e10));
    // Two broadcasts and a reduce of whole 8 MB matrices, 2 tree rounds each.
    let whole = 1e-5 + 8e6 / 1e9;
    assert!(close(c.comm_s, 3.0 * 2.0 * whole));
    // Nothing overlaps: the product waits for A and B, the reduce for the product.
    assert!(close(c.time_s, c.compute_s + c.comm_s));
    // Scatter and gather move 3/4 of a matrix out of (into) the root in 2 rounds of latency.
    let sg = Matmul { strategy: Strategy::ScatterGather, ..br.clone() };
    let c2 = matmul_cost(&sg, 4, &m).unwrap();
    assert!(close(c2.comm_s, 2.0 * whole + 2.0 * (2e-5 + 0.75 * 8e6 / 1e9)));
    assert!(c2.time_s < c.time_s);
    // On one rank, no communication; more ranks than rows: no prediction.
    assert_eq!(matmul_cost(&br, 1, &m).unwrap().comm_s, 0.0);
    assert!(matmul_cost(&Matmul { strategy: Strategy::ScatterGather, ..Matmul::new(3, 8, 8) }, 4, &m).is_none());
    // The report names the strategy.
    let r = predict(&Workload::Matmul(sg), &m, false, &[1, 2, 4], &[]);
    assert!(r.problem.contains("scatter-gather") && r.curves[0].points.len() == 3);
}

#[test]
fn ranks_beyond_a_hosts_cores_compute_at_a_share_of_the_rate() {
    // heat on 4 ranks of one 2-core host: each rank gets half a core.
    let h = Heat { nx: 400, ny: 400, steps: 10, halo_depth: Some(1), ..Heat::default() };
    let alone = machine(1e-5, 1e9, 1e8);
    let shared = Machine { cores: Some(2), hosts: Some(1), ..alone };
    let (a, s) = (heat_cost(&h, 4, &alone).unwrap(), heat_cost(&h, 4, &shared).unwrap());
    assert!(close(s.compute_s, 2.0 * a.compute_s) && close(s.comm_s, a.comm_s));
    // Up to the cores, nothing changes.
    assert!(close(heat_cost(&h, 2, &shared).unwrap().compute_s, heat_cost(&h, 2, &alone).unwrap().compute_s));
    // The same for matmul and training.
    let mm = Matmul::new(400, 400, 400);
    assert!(close(
        matmul_cost(&mm, 4, &shared).unwrap().compute_s,
        2.0 * matmul_cost(&mm, 4, &alone).unwrap().compute_s
    ));
    let t = Train { samples: 4096, ..Train::logreg() };
    let (ta, ts) =
        (train_cost(&t, 4, Allreduce::Ring, &alone).unwrap(), train_cost(&t, 4, Allreduce::Ring, &shared).unwrap());
    assert!(close(ts.compute_s, 2.0 * ta.compute_s));
}

#[test]
fn training_shares_the_blocks_and_sums_every_slot() {
    let t = Train { samples: 10_000, epochs: 2, optimizer: Optimizer::Adam, ..Train::mlp() }; // 16-32-16-1, batch 128, block 16
    assert_eq!(train_params(&t), 16 * 32 + 32 + 32 * 16 + 16 + 16 + 1);
    let m = machine(1e-5, 1e9, 1e5);
    let c = train_cost(&t, 3, Allreduce::Ring, &m).unwrap();
    let steps = 2.0 * 79.0; // 10,000 / 128, rounded up, per epoch
                            // 8 blocks over 3 ranks: the slowest has 3 blocks of 16 samples.
    assert!(close(c.compute_s, steps * 48.0 / 1e5));
    let bytes = 8.0 * 8.0 * 1089.0;
    assert!(close(c.comm_s, steps * (4.0 * 1e-5 + 4.0 / 3.0 * bytes / 1e9)));
    // Weak: the batch grows with the ranks, so does the exchange of the ordered reduction.
    let w = Workload::Train(t.clone()).weak(4);
    let Workload::Train(big) = &w else { panic!("a training workload") };
    assert_eq!((big.samples, big.batch), (40_000, 512));
}

#[test]
fn units_parse_and_a_network_fits_ping_pong_times() {
    assert!(close(parse_latency("50us").unwrap(), 5e-5));
    assert!(close(parse_latency("0.5 ms").unwrap(), 5e-4));
    assert_eq!(parse_bandwidth("10Gbit/s").unwrap(), 1.25e9);
    assert!(parse_latency("").is_err() && parse_bandwidth("GB/s").is_err() && parse_bandwidth("-3GB/s").is_err());
    assert!(Network::new(1e-6, 0.0).is_err() && Network::new(f64::NAN, 1e9).is_err());
    let pts = [(8.0, 20e-6), (1048576.0, 20e-6 + 1048568.0 / 2e9), (64.0, 20.5e-6)];
    let net = Network::fit_pingpong(&pts).unwrap();
    assert!(close(net.alpha_s, 20e-6) && (net.bandwidth() - 2e9).abs() < 1.0);
    assert!(Network::fit_pingpong(&[(8.0, 1e-6)]).is_err());
}

#[test]
fn the_report_compares_with_measurements_and_plots() {
    let w = Workload::Heat(Heat { nx: 1000, ny: 1000, steps: 50, halo_depth: Some(1), ..Heat::default() });
    let m = Machine { cores: Some(2), hosts: Some(1), ..machine(50e-6, 1e9, 1e9) };
    let measured = [(1, 0.05), (1, 0.06), (1, 0.04), (2, 0.03), (4, 0.05)];
    let r = predict(&w, &m, false, &[1, 2, 4, 8, 4096], &measured);
    assert_eq!(r.measured, vec![(1, 0.05), (2, 0.03), (4, 0.05)]);
    assert_eq!(r.checks.len(), 3);
    let at2 = &r.checks[1];
    // 2 ranks: a 1 x 2 grid, 500 rows each, one neighbour: 50 (5e-4 s + 50 us + 8000 B / 1 GB/s).
    assert!(close(at2.predicted_s, 50.0 * (5e-4 + 5e-5 + 8e-6)));
    assert!(close(at2.error, at2.predicted_s / 0.03 - 1.0));
    let (mean, max) = r.error_summary().unwrap();
    assert!(mean <= max && max > 0.0);
    let text = r.render().join("\n");
    assert!(text.contains("4096") && text.contains("the model against the measurements"));
    let fig = model_figure(&r);
    assert!(fig.panels[0].series.iter().any(|s| s.label.starts_with("measured")));
    let path = std::env::temp_dir().join(format!("parsci-model-{}.png", std::process::id()));
    parsci_apps::scaling::plot::write_plot(&path, &fig).unwrap();
    std::fs::remove_file(&path).unwrap();
}
