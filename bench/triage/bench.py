"""Baseline for zhufang-triage: scikit-learn TF-IDF + LinearSVC.

Trained on the SAME corpus that zhufang-triage trains on (exported by
`triage_bench corpus`), evaluated on the same labelled TSV. Settings are
fixed in advance (not tuned on the evaluation set):
  * char:  TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
  * jieba: TfidfVectorizer over jieba words (precise mode, HMM off) + char bigrams
           (the same features as ours), sublinear_tf=True   [only with --jieba]
  * LinearSVC(C=1.0), scikit-learn defaults otherwise.
Throughput = texts / (vectorizer.transform + predict) over all texts, one
process, median of --repeat passes after a warm-up; training not timed.
"""
import argparse
import csv
import statistics
import sys
import time


def unescape(f):
    # The Rust writer escapes line breaks, tabs and backslashes (tsv.rs).
    if "\\" not in f:
        return f
    out, i = [], 0
    while i < len(f):
        c = f[i]
        if c == "\\" and i + 1 < len(f) and f[i + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[f[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    head = [h.strip().lstrip("\ufeff") for h in rows[0]]
    li = head.index("label")
    if "text" in head:
        ti = head.index("text")
        texts = [unescape(r[ti]) for r in rows[1:] if r]
    else:
        a, b = head.index("title"), head.index("detail")
        texts = [unescape(r[a]) + "\n" + unescape(r[b]) for r in rows[1:] if r]
    labels = [r[li] for r in rows[1:] if r]
    return texts, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--features", choices=["char", "jieba"], default="char")
    args = ap.parse_args()

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    import sklearn

    xt, yt = read_tsv(args.train)
    xe, ye = read_tsv(args.eval)
    if args.features == "char":
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    else:
        import jieba
        import re

        jieba.setLogLevel(60)
        cjk = re.compile(r"[\u4e00-\u9fff]+")

        def analyzer(t):
            t = t.lower()
            toks = [w for w in jieba.lcut(t, HMM=False) if w.strip()]
            for run in cjk.findall(t):
                toks.extend(run[i:i + 2] for i in range(len(run) - 1))
            return toks

        vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
    t = time.perf_counter()
    clf = LinearSVC(C=1.0)
    clf.fit(vec.fit_transform(xt), yt)
    train_s = time.perf_counter() - t

    pred = clf.predict(vec.transform(xe))  # warm-up
    times = []
    for _ in range(max(1, args.repeat)):
        t = time.perf_counter()
        pred = clf.predict(vec.transform(xe))
        times.append(time.perf_counter() - t)
    secs = statistics.median(times)
    acc = sum(p == g for p, g in zip(pred, ye)) / len(ye)
    print(f"sklearn={sklearn.__version__} python={sys.version.split()[0]} features={args.features}")
    print(f"train_examples={len(xt)} vocabulary={len(vec.vocabulary_)} train_s={train_s:.2f}")
    print(f"texts={len(xe)}")
    print(f"seconds_median={secs:.6f}")
    print(f"texts_per_s={len(xe) / secs:.0f}")
    print(f"accuracy={acc:.4f}")


if __name__ == "__main__":
    main()
