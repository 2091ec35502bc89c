//! The linear model: naive Bayes over hashed sparse features, trained here,
//! saved as a versioned binary file.
//!
//! Two variants share one storage (per class, per bucket, the summed feature
//! weight of the training examples): multinomial naive Bayes and complement
//! naive Bayes (Rennie et al. 2003). Both score a text as
//! `score(c) = base(c) · Σx + Σ_i x_i · delta(c, i)` where `delta` is non-zero
//! only for the buckets class `c` (or its complement) was seen with, so the
//! loaded model is sparse. Buckets never seen in training are ignored.
//! Confidences are `softmax(scale · score)`; `scale` is fitted on a held-out
//! tenth of the training examples (minimum log-loss).

use crate::TriageError;
use crate::features::{Feature, features, l2_normalize, normalize};
use std::collections::HashMap;

/// File magic and the one format version this build reads and writes.
pub const MAGIC: &[u8; 8] = b"ZFTRIAGE";
pub const FORMAT_VERSION: u32 = 1;

/// The police categories (110 practice) known to the default model.
pub const POLICE_CLASSES: [&str; 5] = ["刑事类警情", "行政（治安）类警情", "道路交通类警情", "纠纷", "群众紧急求助"];

/// The 15 top-level domains of the 12345 taxonomy.
pub const DOMAINS: [&str; 15] = [
    "城乡建设",
    "党务政务",
    "国土资源",
    "环境保护",
    "纪检监察",
    "交通运输",
    "经济管理",
    "科技与信息产业",
    "民政",
    "农村农业",
    "商贸旅游",
    "卫生计生",
    "政法",
    "教育文体",
    "劳动和社会保障",
];

/// Whether a label names a police category (one of [`POLICE_CLASSES`], or
/// any label ending in 警情).
pub fn is_police_label(label: &str) -> bool {
    POLICE_CLASSES.contains(&label) || label.ends_with("警情")
}

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    pub label: String,
}

impl Example {
    pub fn new(text: impl Into<String>, label: impl Into<String>) -> Example {
        Example { text: text.into(), label: label.into() }
    }
}

/// Which naive Bayes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Multinomial = 1,
    Complement = 2,
    /// Multinomial logistic regression (SGD).
    Logistic = 3,
    /// Complement naive Bayes and logistic regression, their log-probabilities
    /// averaged.
    Ensemble = 4,
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub kind: Kind,
    /// log2 of the number of hash buckets.
    pub bits: u32,
    /// Additive smoothing.
    pub alpha: f32,
    /// The 12号文 scope rules stored with the model (see `rules.rs`).
    pub rules: String,
    /// Logistic regression: passes over the data, initial learning rate, L2 decay.
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            kind: Kind::Ensemble,
            bits: 22,
            alpha: 0.05,
            rules: crate::rules::DEFAULT_RULES.to_string(),
            epochs: 8,
            learning_rate: 1.0,
            l2: 1e-5,
        }
    }
}

/// A class and whether it is a police matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassInfo {
    pub name: String,
    pub police: bool,
}

/// A trained model (what is saved). Turn it into a classifier with
/// [`crate::Triage::from_model`].
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub version: String,
    pub kind: Kind,
    pub bits: u32,
    pub alpha: f32,
    pub scale: f32,
    pub classes: Vec<ClassInfo>,
    pub rules: String,
    /// Number of training texts (for IDF).
    pub n_docs: u32,
    /// (bucket, number of training texts with it), sorted by bucket.
    pub df: Vec<(u32, u32)>,
    /// Logistic regression: per-class intercepts (empty for naive Bayes).
    pub bias: Vec<f32>,
    /// Ensemble: the softmax scales of its two parts (empty otherwise).
    pub mix: Vec<f32>,
    /// Logistic coefficients are multiples of this step (stored as i8; 0 when
    /// there are none).
    pub step: f32,
    /// (bucket, class, weight), sorted by bucket then class: naive Bayes, the
    /// summed TF-IDF weights; logistic regression, the coefficients.
    pub entries: Vec<(u32, u16, f32)>,
}

/// Smoothed inverse document frequency.
fn idf(n_docs: u32, df: u32) -> f32 {
    ((1.0 + n_docs as f64) / (1.0 + df as f64)).ln() as f32 + 1.0
}

/// A feature the model knows, with its range in [`Scorer::deltas`].
pub(crate) type Known<'a> = (Feature<'a>, (u32, u32));

/// The scoring form of a model, built when loading.
#[derive(Debug)]
pub(crate) struct Scorer {
    pub bits: u32,
    pub scale: f32,
    /// Number of classes; score columns are `parts × nc` (ensemble: naive
    /// Bayes columns, then logistic columns).
    pub nc: usize,
    /// Ensemble: the scales of the two parts.
    pub mix: Vec<f32>,
    pub base: Vec<f32>,
    pub bias: Vec<f32>,
    /// bucket → (range in `deltas`, IDF).
    pub index: HashMap<u32, (u32, u32, f32), BuildIdentity>,
    pub deltas: Vec<(u16, f32)>,
}

/// Buckets are already hashes: use them as they are.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BuildIdentity;
#[derive(Debug, Default)]
pub(crate) struct Identity(u64);
impl std::hash::Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E3779B97F4A7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = n as u64;
    }
}
impl std::hash::BuildHasher for BuildIdentity {
    type Hasher = Identity;
    fn build_hasher(&self) -> Identity {
        Identity(0)
    }
}

impl Model {
    pub(crate) fn scorer(&self) -> Scorer {
        let nc = self.classes.len();
        let cols = if self.kind == Kind::Ensemble { 2 * nc } else { nc };
        let alpha = self.alpha as f64;
        // Naive Bayes columns: every column for NB kinds, the first nc for an ensemble.
        let is_nb = |c: usize| match self.kind {
            Kind::Multinomial | Kind::Complement => true,
            Kind::Logistic => false,
            Kind::Ensemble => c < nc,
        };
        let nb_kind = if self.kind == Kind::Multinomial { Kind::Multinomial } else { Kind::Complement };
        let mut class_total = vec![0f64; nc];
        let mut vocab = 0usize;
        let mut last = None;
        for &(b, c, w) in &self.entries {
            if is_nb(c as usize) {
                class_total[c as usize] += w as f64;
            }
            if last != Some(b) {
                vocab += 1;
                last = Some(b);
            }
        }
        let all: f64 = class_total.iter().sum();
        let av = alpha * vocab as f64;
        let mut base = vec![0f32; cols];
        if self.kind != Kind::Logistic {
            for (c, &n) in class_total.iter().enumerate() {
                base[c] = match nb_kind {
                    Kind::Multinomial => (alpha.ln() - (n + av).ln()) as f32,
                    _ => (all - n + av).ln() as f32,
                };
            }
        }
        let mut bias = vec![0f32; cols];
        if self.bias.len() == nc {
            let off = if self.kind == Kind::Ensemble { nc } else { 0 };
            bias[off..off + nc].copy_from_slice(&self.bias);
        }
        let idfs: HashMap<u32, f32> = self.df.iter().map(|&(b, d)| (b, idf(self.n_docs, d))).collect();
        let mut index = HashMap::with_capacity_and_hasher(vocab, BuildIdentity);
        let mut deltas = Vec::with_capacity(self.entries.len());
        let mut i = 0;
        while i < self.entries.len() {
            let b = self.entries[i].0;
            let mut j = i;
            let mut total = 0f64;
            while j < self.entries.len() && self.entries[j].0 == b {
                if is_nb(self.entries[j].1 as usize) {
                    total += self.entries[j].2 as f64;
                }
                j += 1;
            }
            let start = deltas.len() as u32;
            for &(_, c, w) in &self.entries[i..j] {
                let w = w as f64;
                let d = if !is_nb(c as usize) {
                    w
                } else if nb_kind == Kind::Multinomial {
                    ((w + alpha) / alpha).ln()
                } else {
                    (total + alpha).ln() - (total - w + alpha).ln()
                };
                deltas.push((c, d as f32));
            }
            index.insert(b, (start, deltas.len() as u32, idfs.get(&b).copied().unwrap_or(1.0)));
            i = j;
        }
        // Buckets only in `df` (logistic weights all pruned) still count for IDF.
        for &(b, _) in &self.df {
            let at = deltas.len() as u32;
            index.entry(b).or_insert_with(|| (at, at, idfs.get(&b).copied().unwrap_or(1.0)));
        }
        let mix = if self.kind == Kind::Ensemble && self.mix.len() == 2 { self.mix.clone() } else { Vec::new() };
        Scorer { bits: self.bits, scale: self.scale, nc, mix, base, bias, index, deltas }
    }

    fn is_nb_col(&self, c: usize, nc: usize) -> bool {
        match self.kind {
            Kind::Multinomial | Kind::Complement => true,
            Kind::Logistic => false,
            Kind::Ensemble => c < nc,
        }
    }

    /// Serialises the model (header, checksum, body).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::new();
        put_str(&mut body, &self.version);
        body.push(self.kind as u8);
        body.extend_from_slice(&self.bits.to_le_bytes());
        body.extend_from_slice(&self.alpha.to_le_bytes());
        body.extend_from_slice(&self.scale.to_le_bytes());
        body.extend_from_slice(&(self.classes.len() as u32).to_le_bytes());
        for c in &self.classes {
            put_str(&mut body, &c.name);
            body.push(c.police as u8);
        }
        put_str(&mut body, &self.rules);
        body.extend_from_slice(&self.n_docs.to_le_bytes());
        body.extend_from_slice(&(self.df.len() as u32).to_le_bytes());
        let mut last = 0u32;
        for &(b, d) in &self.df {
            put_varint(&mut body, (b - last) as u64);
            last = b;
            put_varint(&mut body, d as u64);
        }
        body.extend_from_slice(&(self.bias.len() as u32).to_le_bytes());
        for b in &self.bias {
            body.extend_from_slice(&b.to_le_bytes());
        }
        body.extend_from_slice(&(self.mix.len() as u32).to_le_bytes());
        for m in &self.mix {
            body.extend_from_slice(&m.to_le_bytes());
        }
        body.extend_from_slice(&self.step.to_le_bytes());
        let nc = self.classes.len();
        body.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        let mut last = 0u32;
        for &(b, c, w) in &self.entries {
            put_varint(&mut body, (b - last) as u64);
            last = b;
            put_varint(&mut body, c as u64);
            if self.is_nb_col(c as usize, nc) {
                body.extend_from_slice(&w.to_le_bytes());
            } else {
                body.push((w / self.step).round() as i8 as u8);
            }
        }
        let mut out = Vec::with_capacity(body.len() + 28);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&checksum(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Reads a model written by [`Model::to_bytes`], checking magic, format
    /// version, length and checksum.
    pub fn from_bytes(b: &[u8]) -> Result<Model, TriageError> {
        if b.len() < 28 || &b[..8] != MAGIC {
            return Err(TriageError::NotAModel);
        }
        let version = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(TriageError::Version { found: version, supported: FORMAT_VERSION });
        }
        let len = u64::from_le_bytes(b[12..20].try_into().expect("8 bytes"));
        let sum = u64::from_le_bytes(b[20..28].try_into().expect("8 bytes"));
        let body = &b[28..];
        if body.len() as u64 != len {
            return Err(TriageError::Corrupt("length mismatch".into()));
        }
        if checksum(body) != sum {
            return Err(TriageError::Corrupt("checksum mismatch".into()));
        }
        let mut r = Reader { b: body, pos: 0 };
        let version = r.string()?;
        let kind = match r.u8()? {
            1 => Kind::Multinomial,
            2 => Kind::Complement,
            3 => Kind::Logistic,
            4 => Kind::Ensemble,
            k => return Err(TriageError::Corrupt(format!("unknown model kind {k}"))),
        };
        let bits = r.u32()?;
        if !(8..=32).contains(&bits) {
            return Err(TriageError::Corrupt(format!("bad bucket bits {bits}")));
        }
        let alpha = r.f32()?;
        let scale = r.f32()?;
        if !(alpha > 0.0 && alpha.is_finite() && scale > 0.0 && scale.is_finite()) {
            return Err(TriageError::Corrupt("bad alpha or scale".into()));
        }
        let nc = r.u32()? as usize;
        if nc == 0 || nc > u16::MAX as usize {
            return Err(TriageError::Corrupt(format!("bad class count {nc}")));
        }
        let mut classes = Vec::with_capacity(nc);
        for _ in 0..nc {
            let name = r.string()?;
            let police = r.u8()? != 0;
            classes.push(ClassInfo { name, police });
        }
        let rules = r.string()?;
        let n_docs = r.u32()?;
        let nb = r.u32()? as usize;
        let mut df = Vec::with_capacity(nb.min(body.len() / 2));
        let mut last = 0u64;
        for i in 0..nb {
            let delta = r.varint()?;
            if i > 0 && delta == 0 {
                return Err(TriageError::Corrupt("buckets not increasing".into()));
            }
            last += delta;
            let d = r.varint()?;
            if last > u32::MAX as u64 || d > n_docs as u64 {
                return Err(TriageError::Corrupt("bad document frequency".into()));
            }
            df.push((last as u32, d as u32));
        }
        let nbias = r.u32()? as usize;
        if nbias != 0 && nbias != nc {
            return Err(TriageError::Corrupt("bad intercept count".into()));
        }
        let mut bias = Vec::with_capacity(nbias);
        for _ in 0..nbias {
            let b = r.f32()?;
            if !b.is_finite() {
                return Err(TriageError::Corrupt("bad intercept".into()));
            }
            bias.push(b);
        }
        let nmix = r.u32()? as usize;
        if nmix != if kind == Kind::Ensemble { 2 } else { 0 } {
            return Err(TriageError::Corrupt("bad ensemble scales".into()));
        }
        let mut mix = Vec::with_capacity(nmix);
        for _ in 0..nmix {
            let m = r.f32()?;
            if !(m > 0.0 && m.is_finite()) {
                return Err(TriageError::Corrupt("bad ensemble scale".into()));
            }
            mix.push(m);
        }
        let step = r.f32()?;
        if !(step.is_finite() && step >= 0.0) {
            return Err(TriageError::Corrupt("bad step".into()));
        }
        let cols = if kind == Kind::Ensemble { 2 * nc } else { nc };
        let ne = r.u32()? as usize;
        let mut entries = Vec::with_capacity(ne.min(body.len() / 6));
        let mut last = 0u64;
        for _ in 0..ne {
            last += r.varint()?;
            let c = r.varint()?;
            let nb_col = match kind {
                Kind::Logistic => false,
                Kind::Ensemble => (c as usize) < nc,
                _ => true,
            };
            let w = if nb_col { r.f32()? } else { (r.u8()? as i8) as f32 * step };
            if last > u32::MAX as u64 || c as usize >= cols || !w.is_finite() || (w < 0.0 && nb_col) {
                return Err(TriageError::Corrupt("bad entry".into()));
            }
            entries.push((last as u32, c as u16, w));
        }
        if r.pos != body.len() {
            return Err(TriageError::Corrupt("trailing bytes".into()));
        }
        Ok(Model { version, kind, bits, alpha, scale, classes, rules, n_docs, df, bias, mix, step, entries })
    }
}

fn checksum(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for x in b {
        h ^= *x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], TriageError> {
        if self.b.len() - self.pos < n {
            return Err(TriageError::Corrupt("truncated".into()));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, TriageError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, TriageError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn f32(&mut self) -> Result<f32, TriageError> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn string(&mut self) -> Result<String, TriageError> {
        let n = self.u32()? as usize;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| TriageError::Corrupt("invalid UTF-8".into()))
    }
    fn varint(&mut self) -> Result<u64, TriageError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(TriageError::Corrupt("varint too long".into()))
    }
}

/// Class list for training: the 15 domains, the police categories, then any
/// other label in order of first appearance.
fn class_list(examples: &[Example]) -> Vec<ClassInfo> {
    let mut classes: Vec<ClassInfo> = DOMAINS
        .iter()
        .map(|d| ClassInfo { name: d.to_string(), police: false })
        .chain(POLICE_CLASSES.iter().map(|d| ClassInfo { name: d.to_string(), police: true }))
        .collect();
    for e in examples {
        if !classes.iter().any(|c| c.name == e.label) {
            classes.push(ClassInfo { name: e.label.clone(), police: is_police_label(&e.label) });
        }
    }
    classes
}

/// Training texts as TF-IDF vectors (L2-normalised), with the document
/// frequencies.
struct Vectors {
    n_docs: u32,
    df: Vec<(u32, u32)>,
    docs: Vec<(Vec<(u32, f32)>, u16)>,
}

fn vectorize(examples: &[&Example], classes: &[ClassInfo], bits: u32) -> Vectors {
    let texts: Vec<String> = examples.iter().map(|e| normalize(&e.text)).collect();
    let mut df: HashMap<u32, u32> = HashMap::new();
    let feats: Vec<Vec<Feature<'_>>> = texts.iter().map(|t| features(t, bits)).collect();
    for fs in &feats {
        for f in fs {
            *df.entry(f.bucket).or_insert(0) += 1;
        }
    }
    let n_docs = examples.len() as u32;
    let mut docs = Vec::with_capacity(examples.len());
    for (e, mut fs) in examples.iter().zip(feats) {
        let c = classes.iter().position(|c| c.name == e.label).expect("label in class list") as u16;
        for f in &mut fs {
            f.value *= idf(n_docs, df[&f.bucket]);
        }
        l2_normalize(&mut fs);
        docs.push((fs.iter().map(|f| (f.bucket, f.value)).collect(), c));
    }
    let mut df: Vec<(u32, u32)> = df.into_iter().collect();
    df.sort_unstable();
    Vectors { n_docs, df, docs }
}

/// Naive Bayes: per (bucket, class) the summed weights.
fn nb_entries(v: &Vectors) -> (Vec<f32>, Vec<(u32, u16, f32)>) {
    let mut acc: HashMap<(u32, u16), f64> = HashMap::new();
    for (fs, c) in &v.docs {
        for &(b, x) in fs {
            *acc.entry((b, *c)).or_insert(0.0) += x as f64;
        }
    }
    let mut entries: Vec<(u32, u16, f32)> = acc.into_iter().map(|((b, c), w)| (b, c, w as f32)).collect();
    entries.sort_by_key(|&(b, c, _)| (b, c));
    (Vec::new(), entries)
}

/// Multinomial logistic regression by SGD (deterministic order), with L2
/// weight decay; coefficients are quantised to 255 levels (i8 × step).
fn logistic_entries(v: &Vectors, nc: usize, cfg: &TrainConfig) -> (Vec<f32>, Vec<(u32, u16, f32)>, f32) {
    let index: HashMap<u32, usize> = v.df.iter().enumerate().map(|(i, &(b, _))| (b, i)).collect();
    let docs: Vec<(Vec<(usize, f32)>, usize)> =
        v.docs.iter().map(|(fs, c)| (fs.iter().map(|&(b, x)| (index[&b], x)).collect(), *c as usize)).collect();
    let mut w = vec![0f32; index.len() * nc];
    let mut bias = vec![0f32; nc];
    let mut order: Vec<usize> = (0..docs.len()).collect();
    let mut rng: u64 = 0x2545F4914F6CDD1D;
    let mut p = vec![0f32; nc];
    let n = docs.len().max(1) as f32;
    let mut t = 0f32;
    for _ in 0..cfg.epochs {
        // Fisher-Yates with xorshift64.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        for &d in &order {
            let (fs, gold) = &docs[d];
            let lr = cfg.learning_rate / (1.0 + t / n);
            t += 1.0;
            for (c, pc) in p.iter_mut().enumerate() {
                *pc = bias[c] + fs.iter().map(|&(i, x)| w[i * nc + c] * x).sum::<f32>();
            }
            let max = p.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0f32;
            for pc in p.iter_mut() {
                *pc = (*pc - max).exp();
                sum += *pc;
            }
            let decay = 1.0 - lr * cfg.l2;
            for c in 0..nc {
                let g = p[c] / sum - if c == *gold { 1.0 } else { 0.0 };
                bias[c] -= lr * g;
                for &(i, x) in fs {
                    let wi = &mut w[i * nc + c];
                    *wi = *wi * decay - lr * g * x;
                }
            }
        }
    }
    // Quantise to i8 steps; coefficients under half a step are dropped.
    let max = w.iter().fold(0f32, |m, x| m.max(x.abs()));
    let step = if max > 0.0 { max / 127.0 } else { 1.0 };
    let mut entries = Vec::new();
    for (i, &(b, _)) in v.df.iter().enumerate() {
        for c in 0..nc {
            let q = (w[i * nc + c] / step).round().clamp(-127.0, 127.0);
            if q != 0.0 {
                entries.push((b, c as u16, q * step));
            }
        }
    }
    (bias, entries, step)
}

fn fit(v: Vectors, classes: &[ClassInfo], cfg: &TrainConfig, scale: f32, rules: String, mix: Vec<f32>) -> Model {
    let nc = classes.len();
    let (bias, entries, step) = match cfg.kind {
        Kind::Logistic => logistic_entries(&v, nc, cfg),
        Kind::Ensemble => {
            let (_, mut nb) = nb_entries(&v);
            let (bias, lr, step) = logistic_entries(&v, nc, cfg);
            nb.extend(lr.into_iter().map(|(b, c, w)| (b, c + nc as u16, w)));
            nb.sort_by_key(|&(b, c, _)| (b, c));
            (bias, nb, step)
        }
        _ => {
            let (bias, e) = nb_entries(&v);
            (bias, e, 0.0)
        }
    };
    Model {
        version: String::new(),
        kind: cfg.kind,
        bits: cfg.bits,
        alpha: cfg.alpha,
        scale,
        classes: classes.to_vec(),
        rules,
        n_docs: v.n_docs,
        df: v.df,
        bias,
        mix,
        step,
        entries,
    }
}

/// Held-out blocks for fitting the softmax scales (see [`train_with`]).
const HOLD_BLOCK: usize = 16;

/// Trains with the default settings (see [`TrainConfig::default`]: the
/// ensemble of complement naive Bayes and logistic regression).
/// Deterministic: the same examples in the same order give the same bytes.
pub fn train(examples: &[Example]) -> Model {
    train_with(examples, &TrainConfig::default())
}

/// Trains with explicit settings.
pub fn train_with(examples: &[Example], cfg: &TrainConfig) -> Model {
    let classes = class_list(examples);
    // Fit the softmax scales on a tenth of the examples, trained on the rest.
    // The tenth is taken in blocks of 16 consecutive examples, because the
    // corpus lists the variants of one topic or sentence together: holding
    // out single examples would leave their near-twins in training and make
    // the scales (the confidences) far too sharp.
    let mut held: Vec<&Example> = Vec::new();
    let mut rest: Vec<&Example> = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        if (i / HOLD_BLOCK) % 10 == 9 { held.push(e) } else { rest.push(e) }
    }
    let (scale, mix) = if held.is_empty() || rest.is_empty() {
        (1.0, if cfg.kind == Kind::Ensemble { vec![1.0, 1.0] } else { Vec::new() })
    } else if cfg.kind == Kind::Ensemble {
        let part = |kind| {
            let c = TrainConfig { kind, ..cfg.clone() };
            let m = fit(vectorize(&rest, &classes, cfg.bits), &classes, &c, 1.0, String::new(), Vec::new());
            fit_scale(&m.scorer(), &held, &classes)
        };
        let mix = vec![part(Kind::Complement), part(Kind::Logistic)];
        let m = fit(vectorize(&rest, &classes, cfg.bits), &classes, cfg, 1.0, String::new(), mix.clone());
        (fit_scale(&m.scorer(), &held, &classes), mix)
    } else {
        let m = fit(vectorize(&rest, &classes, cfg.bits), &classes, cfg, 1.0, String::new(), Vec::new());
        (fit_scale(&m.scorer(), &held, &classes), Vec::new())
    };
    let all: Vec<&Example> = examples.iter().collect();
    let mut m = fit(vectorize(&all, &classes, cfg.bits), &classes, cfg, scale, cfg.rules.clone(), mix);
    let digest = checksum(&m.to_bytes());
    m.version = format!("triage-v{FORMAT_VERSION}-{:08x}", (digest >> 32) as u32);
    m
}

fn fit_scale(s: &Scorer, held: &[&Example], classes: &[ClassInfo]) -> f32 {
    let scored: Vec<(Vec<f32>, usize)> = held
        .iter()
        .map(|e| {
            let norm = normalize(&e.text);
            let (sc, _) = s.scores(&norm);
            (sc, classes.iter().position(|c| c.name == e.label).unwrap_or(0))
        })
        .collect();
    let mut best = (f64::INFINITY, 1.0f32);
    let mut k = 0.25f32;
    while k <= 256.0 {
        let mut loss = 0f64;
        for (sc, gold) in &scored {
            let p = softmax(sc, k);
            loss -= (p[*gold].max(1e-9)).ln();
        }
        if loss < best.0 {
            best = (loss, k);
        }
        k *= 1.25;
    }
    best.1
}

/// log-softmax of `k · scores`.
fn log_softmax(scores: &[f32], k: f32) -> Vec<f32> {
    let max = scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let lse = scores.iter().map(|&s| ((s - max) * k).exp()).sum::<f32>().ln();
    scores.iter().map(|&s| (s - max) * k - lse).collect()
}

impl Scorer {
    /// How much a known feature (its delta range, its weight) raises class
    /// `c` above the average class, summed over the parts (scaled).
    pub fn contribution(&self, range: (u32, u32), x: f32, c: usize) -> f32 {
        let ds = &self.deltas[range.0 as usize..range.1 as usize];
        let parts = self.base.len() / self.nc.max(1);
        let mut v = 0f32;
        for p in 0..parts {
            let k = if self.mix.len() == 2 { self.mix[p] } else { 1.0 };
            let lo = p * self.nc;
            let mine = ds.iter().find(|(col, _)| *col as usize == lo + c).map(|d| d.1).unwrap_or(0.0);
            let mean: f32 =
                ds.iter().filter(|(col, _)| (*col as usize) / self.nc.max(1) == p).map(|d| d.1).sum::<f32>()
                    / self.nc.max(1) as f32;
            v += k * x * (mine - mean);
        }
        v
    }
}

/// Softmax of `k · scores`.
pub(crate) fn softmax(scores: &[f32], k: f32) -> Vec<f64> {
    let max = scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut p: Vec<f64> = scores.iter().map(|&s| (((s - max) * k) as f64).exp()).collect();
    let sum: f64 = p.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        for x in &mut p {
            *x /= sum;
        }
    } else {
        let n = p.len() as f64;
        p.iter_mut().for_each(|x| *x = 1.0 / n);
    }
    p
}

impl Scorer {
    /// Scores per class for a normalised text, and the known features with
    /// their per-class contribution offsets (for reasons).
    pub fn scores<'a>(&self, norm: &'a str) -> (Vec<f32>, Vec<Known<'a>>) {
        self.score_features(features(norm, self.bits))
    }

    /// Scores per class for already extracted features.
    pub fn score_features<'a>(&self, feats: Vec<Feature<'a>>) -> (Vec<f32>, Vec<Known<'a>>) {
        let mut sc = vec![0f32; self.base.len()];
        let mut fs = Vec::new();
        let mut ranges = Vec::new();
        for mut f in feats {
            if let Some(&(a, b, idf)) = self.index.get(&f.bucket) {
                f.value *= idf;
                fs.push(f);
                ranges.push((a, b));
            }
        }
        l2_normalize(&mut fs);
        let mut sum_x = 0f32;
        for (f, &(a, b)) in fs.iter().zip(&ranges) {
            sum_x += f.value;
            for &(c, d) in &self.deltas[a as usize..b as usize] {
                sc[c as usize] += f.value * d;
            }
        }
        let known: Vec<Known<'a>> = fs.into_iter().zip(ranges).collect();
        for ((s, base), bias) in sc.iter_mut().zip(&self.base).zip(&self.bias) {
            *s += base * sum_x + bias;
        }
        if self.mix.len() == 2 {
            // Average of the two parts' log-probabilities.
            let (a, b) = sc.split_at(self.nc);
            let la = log_softmax(a, self.mix[0]);
            let lb = log_softmax(b, self.mix[1]);
            sc = la.iter().zip(&lb).map(|(x, y)| 0.5 * (x + y)).collect();
        }
        // Complement NB: a class wins by being *unlike* the others' data.
        (sc, known)
    }
}
