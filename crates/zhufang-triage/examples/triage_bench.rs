//! Bench helper (used by `bench/triage.sh`; no database, builds in seconds):
//!
//! * `triage_bench corpus --out FILE` — the built-in corpus as TSV (text, label);
//! * `triage_bench train --out FILE [--data TSV] [--corrections TSV] [--kind K]` —
//!   what `zhufang triage train` does, without building the whole application;
//! * `triage_bench eval --data FILE [--model FILE] [--repeat N]` — accuracy of
//!   the department answer, and classification throughput (one thread; the
//!   median of N timed passes over all texts, after one warm-up pass);
//! * `triage_bench holdout [--kind K] [--predictions FILE]` — leave-source-out
//!   accuracy on our own text only: trained without `letters-{a,b,c}.txt`,
//!   tested on their whole letters (each file, and the three pooled as
//!   `letters`); trained without `corpus-long.txt`, tested on its letters;
//!   trained on the whole corpus, tested on `data/dev*.tsv`. The last line is
//!   the mean over the five held-out sets (`letters`, `corpus-long.txt` and
//!   the three dev sets). `--predictions` writes set, gold and predicted
//!   label per item (TSV), for paired comparisons.

use std::time::Instant;
use zhufang_triage::{Triage, corpus, eval::Report, tsv};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn kind_arg(args: &[String]) -> Result<zhufang_triage::Kind, String> {
    match arg(args, "--kind").as_deref() {
        None | Some("ensemble") => Ok(zhufang_triage::Kind::Ensemble),
        Some("complement") => Ok(zhufang_triage::Kind::Complement),
        Some("multinomial") => Ok(zhufang_triage::Kind::Multinomial),
        Some("logistic") => Ok(zhufang_triage::Kind::Logistic),
        Some(k) => Err(format!("unknown kind {k}")),
    }
}

/// One held-out set: its name, gold and predicted labels.
type Predictions = (String, Vec<String>, Vec<String>);

/// Named test sets.
type Sets = Vec<(String, Vec<zhufang_triage::Example>)>;

/// `holdout`: the predictions on every held-out set (see the module docs).
fn holdout(cfg: &zhufang_triage::TrainConfig) -> Vec<Predictions> {
    let letters = ["letters-a.txt", "letters-b.txt", "letters-c.txt"];
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/");
    let dev: Sets = ["dev.tsv", "dev-letters.tsv", "dev-long.tsv"]
        .iter()
        .map(|n| {
            let p = format!("{data}{n}");
            let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
            (n.to_string(), tsv::read_examples(&s).unwrap_or_else(|e| panic!("{p}: {e}")))
        })
        .collect();
    // (sources left out of training, sets tested)
    let runs: Vec<(Vec<&str>, Sets)> = vec![
        (letters.to_vec(), letters.iter().map(|n| (n.to_string(), corpus::letters_of(n))).collect()),
        (vec!["corpus-long.txt"], vec![("corpus-long.txt".to_string(), corpus::letters_of("corpus-long.txt"))]),
        (Vec::new(), dev),
    ];
    let mut out = Vec::new();
    for (skip, sets) in runs {
        let m = zhufang_triage::train_with(&corpus::examples_without(&skip), cfg);
        let t = Triage::from_model(&m).expect("a trained model loads");
        for (name, ex) in sets {
            let gold = ex.iter().map(|e| e.label.clone()).collect();
            let pred = ex.iter().map(|e| t.classify(&e.text).department).collect();
            out.push((name, gold, pred));
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fail = |m: String| -> ! {
        eprintln!("triage_bench: {m}");
        std::process::exit(2)
    };
    match args.first().map(String::as_str) {
        Some("corpus") => {
            let out = arg(&args, "--out").unwrap_or_else(|| fail("--out FILE".into()));
            let ex = corpus::examples();
            std::fs::write(&out, tsv::write_examples(&ex)).unwrap_or_else(|e| fail(format!("{out}: {e}")));
            println!("corpus_examples={}", ex.len());
        }
        Some("train") => {
            let out = arg(&args, "--out").unwrap_or_else(|| fail("--out FILE".into()));
            let read = |p: String| {
                let s = std::fs::read_to_string(&p).unwrap_or_else(|e| fail(format!("{p}: {e}")));
                tsv::read_examples(&s).unwrap_or_else(|e| fail(format!("{p}: {e}")))
            };
            let mut ex = arg(&args, "--data").map(read).unwrap_or_else(corpus::examples);
            if let Some(c) = arg(&args, "--corrections") {
                ex.extend(read(c));
            }
            let cfg =
                zhufang_triage::TrainConfig { kind: kind_arg(&args).unwrap_or_else(|e| fail(e)), ..Default::default() };
            let t = Instant::now();
            let m = zhufang_triage::train_with(&ex, &cfg);
            let bytes = m.to_bytes();
            std::fs::write(&out, &bytes).unwrap_or_else(|e| fail(format!("{out}: {e}")));
            println!(
                "trained {} on {} examples in {:.2} s: {} weights, {} bytes -> {out}",
                m.version,
                ex.len(),
                t.elapsed().as_secs_f64(),
                m.entries.len(),
                bytes.len()
            );
        }
        Some("eval") => {
            let data = arg(&args, "--data").unwrap_or_else(|| fail("--data FILE".into()));
            let repeat: usize = arg(&args, "--repeat").and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
            let t0 = Instant::now();
            let loaded = arg(&args, "--model").map(|p| {
                let b = std::fs::read(&p).unwrap_or_else(|e| fail(format!("{p}: {e}")));
                Triage::from_bytes(&b).unwrap_or_else(|e| fail(format!("{p}: {e}")))
            });
            let tri = loaded.as_ref().unwrap_or_else(|| Triage::default_model());
            zhufang_triage::features::jieba(); // the dictionary, built on first use
            let load_ms = t0.elapsed().as_secs_f64() * 1e3;
            let src = std::fs::read_to_string(&data).unwrap_or_else(|e| fail(format!("{data}: {e}")));
            let ex = tsv::read_examples(&src).unwrap_or_else(|e| fail(format!("{data}: {e}")));
            let texts: Vec<&str> = ex.iter().map(|e| e.text.as_str()).collect();
            let predicted: Vec<String> = texts.iter().map(|t| tri.classify(t).department).collect();
            let mut times = Vec::new();
            for _ in 0..repeat {
                let t = Instant::now();
                let mut n = 0usize;
                for text in &texts {
                    n += tri.classify(text).reasons.len();
                }
                std::hint::black_box(n);
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            let secs = times[times.len() / 2];
            let gold: Vec<&str> = ex.iter().map(|e| e.label.as_str()).collect();
            let report = Report::new(&gold, &predicted);
            print!("{}", report.render());
            println!("model_version={}", tri.model_version());
            println!("model_and_dictionary_load_ms={load_ms:.1}");
            println!("texts={}", texts.len());
            println!("seconds_median={secs:.6}");
            println!("texts_per_s={:.0}", texts.len() as f64 / secs);
            println!("accuracy={:.4}", report.accuracy());
        }
        Some("holdout") => {
            let cfg =
                zhufang_triage::TrainConfig { kind: kind_arg(&args).unwrap_or_else(|e| fail(e)), ..Default::default() };
            let sets = holdout(&cfg);
            let mut preds = String::from("set\tgold\tpredicted\n");
            for (name, gold, pred) in &sets {
                let r = Report::new(gold, pred);
                println!("{name}\t{}/{}\t{:.4}", r.correct, r.total, r.accuracy());
                for (g, p) in gold.iter().zip(pred) {
                    preds.push_str(&format!("{name}\t{g}\t{p}\n"));
                }
            }
            // The three letter files pooled, then the mean over the five sets.
            let pooled = |pre: &str| {
                let (mut g, mut p) = (Vec::new(), Vec::new());
                for (_, gold, pred) in sets.iter().filter(|s| s.0.starts_with(pre)) {
                    g.extend(gold.iter().cloned());
                    p.extend(pred.iter().cloned());
                }
                Report::new(&g, &p)
            };
            let letters = pooled("letters-");
            println!("letters\t{}/{}\t{:.4}", letters.correct, letters.total, letters.accuracy());
            let accs = ["letters-", "corpus-long.txt", "dev.tsv", "dev-letters.tsv", "dev-long.tsv"]
                .map(|pre| pooled(pre).accuracy());
            println!("mean_heldout={:.4}", accs.iter().sum::<f64>() / accs.len() as f64);
            if let Some(p) = arg(&args, "--predictions") {
                std::fs::write(&p, preds).unwrap_or_else(|e| fail(format!("{p}: {e}")));
            }
        }
        _ => fail(
            "usage: triage_bench corpus --out FILE | train --out FILE [--data TSV] [--corrections TSV] [--kind K] | eval --data FILE [--model FILE] [--repeat N] | holdout [--kind K] [--predictions FILE]".into(),
        ),
    }
}
