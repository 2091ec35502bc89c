//! Text → hashed sparse features: jieba words plus character bigrams and
//! trigrams.
//!
//! Text is normalised first (full-width ASCII → half-width, lower case, every
//! run of ASCII digits → `0`, line breaks kept). Features are
//! * `w` + each jieba word (precise mode, no HMM) of at least two characters,
//!   or of one CJK character that is not a stop character, and, as in jieba's
//!   search mode, the dictionary words of two or three characters inside a
//!   longer word (`中华人民共和国` also gives `人民`, `共和国`, …);
//! * `b` + each pair, `t` + each triple, of adjacent CJK characters.
//!
//! The sub-words and trigrams were added for letters written by another hand
//! than the training text, whose compounds differ from the corpus's: under
//! leave-source-out evaluation (`triage_bench holdout`) they raised accuracy
//! on the held-out letters, together and not each alone.
//!
//! Each feature string is hashed (FNV-1a, 64 bit) into `2^bits` buckets; term
//! frequencies become `1 + ln(tf)`, a title's terms (a first line followed by
//! more text) counting double. The model then multiplies by IDF and
//! L2-normalises ([`l2_normalize`]), so a long letter and a one-line example
//! weigh the same. [`features_by_sentence`] also gives each sentence's
//! features from the same segmentation.

use jieba_rs::Jieba;
use std::sync::OnceLock;

/// The jieba segmenter with its default dictionary, built once.
pub fn jieba() -> &'static Jieba {
    static J: OnceLock<Jieba> = OnceLock::new();
    J.get_or_init(Jieba::new)
}

/// Single characters too common to carry meaning on their own.
const STOP_CHARS: &str = "的了是在我你他她它们和与及或也都就还又很要会能可有被把将对向从到给让这那个一不没人为之其而以于上下中里吗呢吧啊呀哦嗯等已着过来去说";

const UNIGRAMS: bool = false;

/// Character trigrams inside runs of CJK characters.
const TRIGRAMS: bool = true;

/// jieba search mode: also the dictionary words inside a longer word.
const SUB_WORDS: bool = true;

/// jieba: segment unknown runs with its HMM (off: character bigrams cover them, and it is faster).
const HMM: bool = false;

/// Weight of a term in the title (the first line, when more lines follow).
const TITLE_WEIGHT: f32 = 2.0;

/// One feature of one text: its bucket, its weight, and the text it came from.
#[derive(Debug, Clone)]
pub struct Feature<'a> {
    pub bucket: u32,
    pub value: f32,
    /// A word or a character pair or triple of the normalised text (for reasons).
    pub text: &'a str,
    pub is_word: bool,
}

/// Normalises a text for featurising and for the rules (line breaks are
/// kept: a first line is a title, see [`features`]).
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_digit = false;
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        };
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('0');
            }
            last_digit = true;
            continue;
        }
        last_digit = false;
        if c == '\n' {
            out.push('\n');
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF)
}

/// FNV-1a, 64 bit, over a tag byte then the string.
pub fn hash(tag: u8, s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    h ^= tag as u64;
    h = h.wrapping_mul(0x100000001b3);
    for b in s.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Every word and character pair of a normalised text, unmerged, each with
/// the byte offset where it starts and value 1.
fn raw_features<'a>(norm: &'a str, bits: u32) -> Vec<(usize, Feature<'a>)> {
    let mask = if bits >= 32 { u32::MAX } else { (1u32 << bits) - 1 };
    let mut raw: Vec<(usize, Feature<'a>)> = Vec::with_capacity(norm.len() / 2);
    let tokens = if SUB_WORDS { jieba().cut_for_search(norm, HMM) } else { jieba().cut(norm, HMM) };
    for tok in tokens {
        let w = tok.word;
        let mut chars = w.chars();
        let first = match chars.next() {
            Some(c) => c,
            None => continue,
        };
        let single = chars.next().is_none();
        let keep = if single {
            is_cjk(first) && !STOP_CHARS.contains(first)
        } else {
            w.chars().any(|c| is_cjk(c) || c.is_ascii_alphanumeric())
        };
        if keep {
            let f = Feature { bucket: (hash(b'w', w) as u32) & mask, value: 1.0, text: w, is_word: true };
            raw.push((tok.byte_start, f));
        }
    }
    // Character unigrams (off), bigrams and trigrams inside runs of CJK
    // characters (`prev2`, `prev`: where the two characters before start).
    let mut prev: Option<usize> = None;
    let mut prev2: Option<usize> = None;
    for (i, c) in norm.char_indices() {
        if is_cjk(c) {
            if TRIGRAMS && let Some(j) = prev2 {
                let s = &norm[j..i + c.len_utf8()];
                raw.push((j, Feature { bucket: (hash(b't', s) as u32) & mask, value: 1.0, text: s, is_word: false }));
            }
            if UNIGRAMS && !STOP_CHARS.contains(c) {
                let s = &norm[i..i + c.len_utf8()];
                raw.push((i, Feature { bucket: (hash(b'u', s) as u32) & mask, value: 1.0, text: s, is_word: false }));
            }
            if let Some(j) = prev {
                let s = &norm[j..i + c.len_utf8()];
                raw.push((j, Feature { bucket: (hash(b'b', s) as u32) & mask, value: 1.0, text: s, is_word: false }));
            }
            prev2 = prev;
            prev = Some(i);
        } else {
            prev = None;
            prev2 = None;
        }
    }
    raw
}

/// Merges by bucket (summing), then `1 + ln(tf)`; in order of first
/// occurrence. A small open-addressing table keyed by bucket (no sort).
fn merge(raw: Vec<Feature<'_>>) -> Vec<Feature<'_>> {
    let cap = (raw.len() * 2).next_power_of_two().max(8);
    let mask = cap - 1;
    let mut slots: Vec<u32> = vec![u32::MAX; cap];
    let mut out: Vec<Feature<'_>> = Vec::with_capacity(raw.len());
    for f in raw {
        let mut i = (f.bucket.wrapping_mul(0x9E37_79B1) >> 7) as usize & mask;
        loop {
            let at = slots[i];
            if at == u32::MAX {
                slots[i] = out.len() as u32;
                out.push(f);
                break;
            }
            let l = &mut out[at as usize];
            if l.bucket == f.bucket {
                l.value += f.value;
                // Prefer a word over a bigram as the shown text.
                if f.is_word && !l.is_word {
                    l.text = f.text;
                    l.is_word = true;
                }
                break;
            }
            i = (i + 1) & mask;
        }
    }
    for f in &mut out {
        f.value = 1.0 + f.value.ln();
    }
    out
}

/// Where a first line followed by more text (a title) ends, else 0.
fn title_end(norm: &str) -> usize {
    match norm.find('\n') {
        Some(i) if norm[i..].trim().chars().count() > 0 => i,
        _ => 0,
    }
}

/// Features of an already normalised text, merged by bucket, with
/// `1 + ln(tf)` weights (not normalised: the model applies IDF first, see
/// [`l2_normalize`]); terms of a title count [`TITLE_WEIGHT`] times. In order
/// of first occurrence.
pub fn features<'a>(norm: &'a str, bits: u32) -> Vec<Feature<'a>> {
    features_by_sentence(norm, bits).0
}

/// Characters that end a sentence.
pub const SENTENCE_ENDS: [char; 8] = ['。', '！', '？', '；', '\n', '!', '?', ';'];

/// The whole text's features (as [`features`]) and, when the text has at
/// least two sentences of four or more characters, each such sentence's
/// features (no title weighting); otherwise an empty list. One segmentation
/// serves both.
pub fn features_by_sentence<'a>(norm: &'a str, bits: u32) -> (Vec<Feature<'a>>, Vec<Vec<Feature<'a>>>) {
    let raw = raw_features(norm, bits);
    let te = title_end(norm);
    // Sentence spans (byte ranges) long enough to count.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, c) in norm.char_indices().chain(std::iter::once((norm.len(), '\n'))) {
        if SENTENCE_ENDS.contains(&c) {
            if norm[start..i].chars().filter(|c| !c.is_whitespace()).count() >= 4 {
                spans.push((start, i));
            }
            start = i + c.len_utf8();
        }
    }
    let mut per: Vec<Vec<Feature<'a>>> = if spans.len() >= 2 { vec![Vec::new(); spans.len()] } else { Vec::new() };
    let mut whole = Vec::with_capacity(raw.len());
    for (at, f) in raw {
        if !per.is_empty() {
            let k = spans.partition_point(|&(_, e)| e <= at);
            if k < spans.len() && spans[k].0 <= at {
                per[k].push(f.clone());
            }
        }
        let mut f = f;
        if at < te {
            f.value = TITLE_WEIGHT;
        }
        whole.push(f);
    }
    (merge(whole), per.into_iter().map(merge).collect())
}

/// Scales the values to unit L2 norm (no-op on an empty or zero vector).
pub fn l2_normalize(fs: &mut [Feature<'_>]) {
    let norm2: f32 = fs.iter().map(|f| f.value * f.value).sum();
    if norm2 > 0.0 && norm2.is_finite() {
        let inv = 1.0 / norm2.sqrt();
        for f in fs {
            f.value *= inv;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_width_case_digits() {
        assert_eq!(normalize("ＡＢc１２3号"), "abc0号");
    }

    #[test]
    fn title_and_sentences() {
        let n = normalize("路灯坏了\n小区的路灯坏了好几天。晚上出门很不方便！好");
        let (whole, per) = features_by_sentence(&n, 20);
        assert_eq!(per.len(), 3, "title, two sentences of four or more characters");
        let lamp = |fs: &[Feature<'_>]| fs.iter().find(|f| f.text == "路灯").map(|f| f.value);
        // Twice in the title (weight 2) + once in the body: tf 3.
        assert!((lamp(&whole).unwrap() - (1.0 + 3f32.ln())).abs() < 1e-6);
        assert_eq!(lamp(&per[0]), Some(1.0));
        assert!(lamp(&per[2]).is_none());
        assert!(features_by_sentence("只有一句话而已", 20).1.is_empty());
    }

    #[test]
    fn words_and_bigrams() {
        let n = normalize("小区路灯坏了");
        let mut f = features(&n, 20);
        l2_normalize(&mut f);
        let texts: Vec<&str> = f.iter().map(|f| f.text).collect();
        assert!(texts.contains(&"路灯"), "{texts:?}");
        assert!(texts.contains(&"区路"), "{texts:?}");
        assert!(texts.contains(&"区路灯"), "{texts:?}");
        let norm: f32 = f.iter().map(|f| f.value * f.value).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(features("", 20).is_empty());
    }

    #[test]
    fn sub_words_of_a_long_word() {
        let n = normalize("中华人民共和国");
        let words: Vec<&str> = features(&n, 20).into_iter().filter(|f| f.is_word).map(|f| f.text).collect();
        assert!(words.contains(&"中华人民共和国"), "{words:?}");
        assert!(words.contains(&"人民") && words.contains(&"共和国"), "{words:?}");
    }
}
