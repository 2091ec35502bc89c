//! Evaluation: per-class precision / recall / F1, the confusion matrix, and
//! accuracy.

/// The evaluation of predictions against gold labels.
#[derive(Debug, Clone)]
pub struct Report {
    /// Gold labels first (in order of first appearance), then any label only
    /// predicted.
    pub classes: Vec<String>,
    /// `confusion[gold][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    pub correct: usize,
    pub total: usize,
}

impl Report {
    pub fn new<G: AsRef<str>, P: AsRef<str>>(gold: &[G], predicted: &[P]) -> Report {
        assert_eq!(gold.len(), predicted.len());
        let mut classes: Vec<String> = Vec::new();
        let idx = |classes: &mut Vec<String>, l: &str| match classes.iter().position(|c| c == l) {
            Some(i) => i,
            None => {
                classes.push(l.to_string());
                classes.len() - 1
            }
        };
        for g in gold {
            idx(&mut classes, g.as_ref());
        }
        let pairs: Vec<(usize, usize)> = gold
            .iter()
            .zip(predicted)
            .map(|(g, p)| (idx(&mut classes, g.as_ref()), idx(&mut classes, p.as_ref())))
            .collect();
        let n = classes.len();
        let mut confusion = vec![vec![0; n]; n];
        for &(g, p) in &pairs {
            confusion[g][p] += 1;
        }
        let correct = pairs.iter().filter(|(g, p)| g == p).count();
        Report { classes, confusion, correct, total: pairs.len() }
    }

    pub fn accuracy(&self) -> f64 {
        if self.total == 0 { 0.0 } else { self.correct as f64 / self.total as f64 }
    }

    /// The printed form; the last line is `accuracy=0.xxxx`.
    pub fn render(&self) -> String {
        let n = self.classes.len();
        let mut s = String::new();
        s.push_str("class\tprecision\trecall\tf1\tsupport\tpredicted\n");
        for i in 0..n {
            let tp = self.confusion[i][i] as f64;
            let support: usize = self.confusion[i].iter().sum();
            let pred: usize = (0..n).map(|g| self.confusion[g][i]).sum();
            let p = if pred == 0 { 0.0 } else { tp / pred as f64 };
            let r = if support == 0 { 0.0 } else { tp / support as f64 };
            let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
            s.push_str(&format!("{}\t{p:.4}\t{r:.4}\t{f:.4}\t{support}\t{pred}\n", self.classes[i]));
        }
        s.push_str("\nconfusion (rows: gold, columns: predicted)\n");
        s.push_str("gold\\predicted");
        for c in &self.classes {
            s.push('\t');
            s.push_str(c);
        }
        s.push('\n');
        for i in 0..n {
            s.push_str(&self.classes[i]);
            for j in 0..n {
                s.push_str(&format!("\t{}", self.confusion[i][j]));
            }
            s.push('\n');
        }
        s.push_str(&format!("\naccuracy={:.4}\n", self.accuracy()));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_last_line() {
        let r = Report::new(&["a", "a", "b", "b"], &["a", "b", "b", "c"]);
        assert_eq!(r.classes, vec!["a", "b", "c"]);
        assert_eq!(r.confusion[0], vec![1, 1, 0]);
        assert_eq!(r.confusion[1], vec![0, 1, 1]);
        assert_eq!(r.accuracy(), 0.5);
        let out = r.render();
        assert_eq!(out.lines().last().unwrap(), "accuracy=0.5000");
        assert!(out.contains("b\t0.5000\t0.5000\t0.5000\t2\t2"), "{out}");
    }
}
