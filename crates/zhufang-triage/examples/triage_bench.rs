//! Bench helper (used by `bench/triage.sh`; no database, builds in seconds):
//!
//! * `triage_bench corpus --out FILE` — the built-in corpus as TSV (text, label);
//! * `triage_bench train --out FILE [--data TSV] [--corrections TSV] [--kind K]` —
//!   what `zhufang triage train` does, without building the whole application;
//! * `triage_bench eval --data FILE [--model FILE] [--repeat N]` — accuracy of
//!   the department answer, and classification throughput (one thread; the
//!   median of N timed passes over all texts, after one warm-up pass).

use std::time::Instant;
use zhufang_triage::{Triage, corpus, eval::Report, tsv};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
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
            let cfg = zhufang_triage::TrainConfig {
                kind: match arg(&args, "--kind").as_deref() {
                    None | Some("ensemble") => zhufang_triage::Kind::Ensemble,
                    Some("complement") => zhufang_triage::Kind::Complement,
                    Some("multinomial") => zhufang_triage::Kind::Multinomial,
                    Some("logistic") => zhufang_triage::Kind::Logistic,
                    Some(k) => fail(format!("unknown kind {k}")),
                },
                ..Default::default()
            };
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
        _ => fail(
            "usage: triage_bench corpus --out FILE | train --out FILE [--data TSV] [--corrections TSV] [--kind K] | eval --data FILE [--model FILE] [--repeat N]".into(),
        ),
    }
}
