//! Property tests: classify never panics and its confidences stay in [0, 1].

use proptest::prelude::*;
use zhufang_triage::Triage;

fn check(text: &str) {
    let v = Triage::default_model().classify(text);
    assert!((0.0..=1.0).contains(&v.confidence), "{v:?}");
    assert!((0.0..=1.0).contains(&v.police_confidence), "{v:?}");
    assert!(v.reasons.len() <= zhufang_triage::MAX_REASONS);
    assert!(Triage::default_model().classes().iter().any(|c| c.name == v.department));
    assert_eq!(v.police, Triage::default_model().classes().iter().find(|c| c.name == v.department).unwrap().police);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_string(s in any::<String>()) {
        check(&s);
    }

    #[test]
    fn chinese_like(s in "[\\u{4e00}-\\u{4fff}，。！？\\n 0-9a-zA-Z]{0,400}") {
        check(&s);
    }

    #[test]
    fn corpus_words_shuffled(words in proptest::collection::vec(prop::sample::select(vec![
        "有人溺水", "路灯", "坏了", "工资", "拖欠", "学校", "医院", "打架", "车祸", "污染", "噪音", "\n", "。", "公交", "报警",
    ]), 0..40)) {
        check(&words.concat());
    }
}

#[test]
fn edge_cases() {
    for s in ["", " ", "\n\n", "\u{0}", "😀😀", "ａｂｃ１２３", &"长".repeat(20_000), "\\n\\t"] {
        check(s);
    }
}
