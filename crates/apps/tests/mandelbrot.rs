//! `mandelbrot`: every strategy at several rank counts against the serial reference,
//! bit for bit; the image files; bad parameters.

use std::path::PathBuf;

use parsci_apps::mandelbrot::{parallel, serial, Image, KernelPath, Mandelbrot, OutputKind, Product, Strategy, IN_SET};
use parsci_apps::{execute, Error, Program};
use parsci_comm::{launch, Backend};

const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

/// A small image with sizes no rank count divides, across the set's edge.
fn small() -> Mandelbrot {
    Mandelbrot { nr: 37, ni: 29, imax: 200, chunk: 3, ..Mandelbrot::default() }
}

fn compute(params: &Mandelbrot, ranks: usize, product: Product) -> parallel::Computed {
    let out = launch(Backend::Threads(ranks), |comm| parallel::compute(comm, params, product))
        .unwrap_or_else(|e| panic!("{:?} on {ranks} ranks: {e}", params.strategy));
    out.into_root().unwrap().expect("rank 0 has the image")
}

/// A file in the temporary directory, unique to this test process.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parsci-test-{}-{name}", std::process::id()))
}

#[test]
fn every_strategy_at_every_rank_count_gives_the_serial_counts() {
    let want = serial::image(&small());
    for strategy in Strategy::ALL {
        for n in SIZES {
            for master_computes in [false, true] {
                let params = Mandelbrot { strategy, master_computes, ..small() };
                let got = compute(&params, n, Product::Counts);
                assert_eq!(got.image, Image::Counts(want.counts.clone()), "{strategy:?} on {n} ranks");
                assert_eq!(got.stats.iter().map(|s| s.rows).sum::<usize>(), 29, "{strategy:?} on {n} ranks");
                assert_eq!(got.stats.iter().map(|s| s.checksum).sum::<u64>(), want.checksum);
                if strategy != Strategy::Dynamic {
                    break;
                }
            }
        }
    }
}

#[test]
fn every_strategy_gives_the_serial_membership_bits() {
    let want = serial::image(&small());
    for strategy in Strategy::ALL {
        for n in [1, 3, 4] {
            let params = Mandelbrot { strategy, ..small() };
            let got = compute(&params, n, Product::Members);
            assert_eq!(got.image, Image::Members(want.members.clone()), "{strategy:?} on {n} ranks");
            assert_eq!(got.stats.iter().map(|s| s.in_set).sum::<u64>(), want.in_set);
        }
    }
}

#[test]
fn an_idle_master_is_reported_where_it_leaves_a_core_unused() {
    use parsci_comm::{available_cores, Backend};
    let note = |p: &Mandelbrot, n: usize| {
        let run = execute(p, Backend::Threads(n)).unwrap();
        run.lines.iter().any(|l| l.starts_with("Note: the master (rank 0) only hands out rows"))
    };
    let lesson = Mandelbrot { strategy: Strategy::Dynamic, ..small() };
    let n = available_cores().max(2);
    assert_eq!(note(&lesson, n), n <= available_cores(), "dynamic on {n} ranks");
    assert!(!note(&Mandelbrot { master_computes: true, ..lesson.clone() }, n));
    assert!(!note(&Mandelbrot { strategy: Strategy::Cyclic, ..lesson }, n));
}

#[test]
fn smooth_values_mark_the_set_and_grow_with_the_counts() {
    let params = Mandelbrot { strategy: Strategy::Dynamic, ..small() };
    let want = serial::image(&params);
    let Image::Smooth(nu) = compute(&params, 3, Product::Smooth).image else { panic!("not smooth") };
    for (i, (&v, &count)) in nu.iter().zip(&want.counts).enumerate() {
        let member = want.members[(i / 37) * 5 + (i % 37) / 8] & (0x80 >> (i % 37 % 8)) != 0;
        if member {
            assert_eq!(v, IN_SET, "pixel {i}");
        } else {
            // The normalized count lies within about one iteration of the escape count.
            assert!(v >= 0.0 && (v - count as f32).abs() < 2.0, "pixel {i}: nu {v}, count {count}");
        }
    }
}

#[test]
fn a_region_across_the_escape_radius_and_odd_sizes() {
    // |c| = 2 crosses this region: those pixels take the scalar path.
    let params = Mandelbrot {
        nr: 45,
        ni: 13,
        re_min: -2.6,
        re_max: 2.2,
        im_min: -2.3,
        im_max: 2.1,
        imax: 77,
        ..Mandelbrot::default()
    };
    let want = serial::image(&params);
    for strategy in Strategy::ALL {
        for n in [2, 7] {
            let got = compute(&Mandelbrot { strategy, ..params.clone() }, n, Product::Counts);
            assert_eq!(got.image, Image::Counts(want.counts.clone()), "{strategy:?} on {n} ranks");
        }
    }
}

#[test]
fn more_ranks_than_rows() {
    let params = Mandelbrot { nr: 9, ni: 3, ..small() };
    let want = serial::image(&params);
    for strategy in Strategy::ALL {
        let got = compute(&Mandelbrot { strategy, ..params.clone() }, 7, Product::Counts);
        assert_eq!(got.image, Image::Counts(want.counts.clone()), "{strategy:?}");
        assert_eq!(got.stats.len(), 7);
    }
}

#[test]
fn every_kernel_path_gives_the_same_image() {
    let want = serial::image(&small());
    for kernel in KernelPath::available() {
        let params = Mandelbrot { kernel: Some(kernel), ..small() };
        let got = compute(&params, 2, Product::Counts);
        assert_eq!(got.kernel, kernel);
        assert_eq!(got.image, Image::Counts(want.counts.clone()), "{kernel:?}");
    }
}

#[test]
fn the_program_checks_itself_and_reports_per_rank() {
    for strategy in Strategy::ALL {
        let params = Mandelbrot { strategy, ..small() };
        let run = execute(&params, Backend::Threads(3)).unwrap();
        params.check(&run.result, 3).unwrap_or_else(|e| panic!("{strategy:?}: {e}"));
        let r = &run.result;
        assert_eq!((r.nr, r.ni, r.imax, r.strategy), (37, 29, 200, strategy));
        assert!(r.imbalance >= 1.0, "{}", r.imbalance);
        let text = run.text();
        assert!(text.starts_with("Mandelbrot 37 x 29, re [-1.5, 0.5), im [-1, 1), IMAX 200: "), "{text}");
        for rank in 0..3 {
            assert!(text.contains(&format!("[Rank {rank}/3] ")), "{text}");
        }
        assert!(text.contains(&format!("Checksum (sum of iteration counts): {}\n", r.checksum)), "{text}");
        assert!(text.contains("Load imbalance (max / mean compute time): "), "{text}");
        assert!(run.lines.last().unwrap().starts_with("Done in "));
    }
}

#[test]
fn checks_catch_a_wrong_image() {
    let params = small();
    let mut run = execute(&params, Backend::Threads(2)).unwrap().result;
    if let Some(Image::Counts(c)) = run.image.as_mut() {
        c[100] += 1;
    }
    assert!(params.check(&run, 2).unwrap_err().contains("pixel (ir 26, ii 2)"));
}

#[test]
fn the_lessons_example() {
    let params = Mandelbrot::default();
    let run = execute(&params, Backend::Threads(2)).unwrap();
    assert_eq!(run.result.checksum, serial::image(&params).checksum);
    assert_eq!((run.result.nr, run.result.ni, run.result.imax), (200, 200, 1000));
}

#[test]
fn a_pbm_checked_by_hand() {
    // One row on the real axis: c = -2, -1.7, ..., 0.1 are in the set, 0.4 and 0.7 escape.
    let path = temp("hand.pbm");
    let params = Mandelbrot {
        nr: 10,
        ni: 1,
        re_min: -2.0,
        re_max: 1.0,
        im_min: 0.0,
        im_max: 1.0,
        imax: 50,
        output: Some(path.clone()),
        ..Mandelbrot::default()
    };
    let run = execute(&params, Backend::Threads(2)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"P4\n10 1\n\xff\x00");
    assert_eq!(run.result.in_set, 8);
    assert!(run.text().contains("Wrote "), "{}", run.text());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn the_pbm_file_is_the_serial_membership() {
    let path = temp("small.pbm");
    for strategy in Strategy::ALL {
        let params = Mandelbrot { strategy, output: Some(path.clone()), ..small() };
        execute(&params, Backend::Threads(3)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header = b"P4\n37 29\n";
        assert_eq!(&bytes[..header.len()], header);
        assert_eq!(&bytes[header.len()..], &serial::image(&params).members[..], "{strategy:?}");
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn png_files_decode_with_the_set_in_black() {
    for smooth in [false, true] {
        let path = temp(&format!("small-{smooth}.png"));
        let params = Mandelbrot { output: Some(path.clone()), smooth, strategy: Strategy::Reduce, ..small() };
        execute(&params, Backend::Threads(2)).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgb).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (37, 29, png::ColorType::Rgb));
        let want = serial::image(&params);
        let mut colours = std::collections::HashSet::new();
        for i in 0..37 * 29 {
            let px = &rgb[3 * i..3 * i + 3];
            let in_set = want.counts[i] == 200;
            assert_eq!(px == [0, 0, 0], in_set, "pixel {i} smooth {smooth}: {px:?}");
            colours.insert(px.to_vec());
        }
        assert!(colours.len() > 10, "a colour image, not {} colours", colours.len());
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn writing_replaces_the_file_whole_and_leaves_no_temporary() {
    let path = temp("replace.pbm");
    std::fs::write(&path, b"old").unwrap();
    execute(&Mandelbrot { output: Some(path.clone()), ..small() }, Backend::Threads(2)).unwrap();
    assert!(std::fs::read(&path).unwrap().starts_with(b"P4\n37 29\n"));
    let dir = path.parent().unwrap();
    let stem = path.file_name().unwrap().to_string_lossy().to_string();
    let leftovers = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).filter(|e| {
        let name = e.file_name().to_string_lossy().to_string();
        name.starts_with(&format!(".{stem}")) && name.ends_with(".tmp")
    });
    assert_eq!(leftovers.count(), 0);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn bad_parameters_are_rejected_before_any_work() {
    let bad = |p: Mandelbrot, says: &str| {
        let err = execute(&p, Backend::Threads(2)).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { program: "mandelbrot", .. }), "{err:?}");
        assert!(err.to_string().contains(says), "{err} lacks {says:?}");
    };
    bad(Mandelbrot { nr: 0, ..small() }, "NR must be a whole number from 1");
    bad(Mandelbrot { ni: 0, ..small() }, "NI must be a whole number from 1");
    bad(Mandelbrot { nr: 1 << 21, ..small() }, "NR must be a whole number from 1");
    bad(Mandelbrot { nr: 1 << 20, ni: 1 << 20, ..small() }, "more than the");
    bad(Mandelbrot { imax: 0, ..small() }, "IMAX must be at least 1");
    bad(Mandelbrot { re_min: 1.0, re_max: 1.0, ..small() }, "REI must be less than REF");
    bad(Mandelbrot { im_min: 2.0, im_max: -1.0, ..small() }, "IMI must be less than IMF");
    bad(Mandelbrot { re_min: f64::NAN, ..small() }, "REI must be a finite number");
    bad(Mandelbrot { im_max: f64::INFINITY, ..small() }, "IMF must be a finite number");
    bad(Mandelbrot { re_min: -1e308, re_max: 1e308, ..small() }, "REI must be less than REF");
    bad(Mandelbrot { chunk: 0, ..small() }, "--chunk must be at least 1");
    bad(Mandelbrot { output: Some("picture.jpg".into()), ..small() }, "must end in .png (colour) or .pbm");
    bad(Mandelbrot { output: Some("noextension".into()), ..small() }, "must end in .png");
    bad(
        Mandelbrot { output: Some("/no/such/dir/x.png".into()), ..small() },
        "the directory /no/such/dir does not exist",
    );
    bad(Mandelbrot { smooth: true, ..small() }, "--smooth colours a PNG image");
    bad(Mandelbrot { format: Some(OutputKind::Pbm), ..small() }, "--format says how to write --output FILE");
    bad(Mandelbrot { smooth: true, output: Some(temp("s.pbm")), ..small() }, "--smooth colours a PNG image");
}

#[test]
fn the_format_can_be_given_for_a_device() {
    // /dev/null has no extension and cannot be renamed over: it is written directly.
    let params = Mandelbrot { output: Some("/dev/null".into()), format: Some(OutputKind::Pbm), ..small() };
    let run = execute(&params, Backend::Threads(2)).unwrap();
    assert!(run.text().contains("Wrote /dev/null (37 x 29, set membership"), "{}", run.text());
    let path = temp("named.png");
    let params = Mandelbrot { output: Some(path.clone()), format: Some(OutputKind::Pbm), ..small() };
    execute(&params, Backend::Threads(2)).unwrap();
    assert!(std::fs::read(&path).unwrap().starts_with(b"P4\n37 29\n"), "--format wins over the extension");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_kernel_this_cpu_lacks_is_a_clear_error() {
    for kernel in [KernelPath::Avx512, KernelPath::Avx2] {
        if !KernelPath::available().contains(&kernel) {
            let err = execute(&Mandelbrot { kernel: Some(kernel), ..small() }, Backend::Threads(1)).unwrap_err();
            assert!(err.to_string().contains("this CPU cannot run the"), "{err}");
        }
    }
}

#[test]
fn an_unwritable_output_is_an_error_not_a_panic() {
    let dir = temp("dir.pbm");
    std::fs::create_dir_all(&dir).unwrap();
    let err = execute(&Mandelbrot { output: Some(dir.clone()), ..small() }, Backend::Threads(2)).unwrap_err();
    assert!(err.to_string().contains("cannot write"), "{err}");
    std::fs::remove_dir(&dir).unwrap();
}
