//! The hash-chained audit log. Each record's hash covers its fields and the
//! previous record's hash, so editing or deleting any row breaks the chain
//! from that row on.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that precedes the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    /// Milliseconds since the Unix epoch, UTC.
    pub at_ms: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub object_type: String,
    pub object_id: String,
    pub action: String,
    pub before_digest: String,
    pub after_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What a caller supplies; sequence, hashes and time are filled by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub actor_id: Option<i64>,
    pub actor: String,
    pub object_type: String,
    pub object_id: String,
    pub action: String,
    pub before_digest: String,
    pub after_digest: String,
}

impl AuditEvent {
    /// An event whose before/after are JSON values (digested, never stored).
    pub fn new(
        actor_id: Option<i64>,
        actor: &str,
        object_type: &str,
        object_id: impl ToString,
        action: &str,
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) -> Self {
        Self {
            actor_id,
            actor: actor.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            action: action.to_string(),
            before_digest: before.map(digest_json).unwrap_or_default(),
            after_digest: after.map(digest_json).unwrap_or_default(),
        }
    }
}

/// SHA-256 of a JSON value's canonical text (serde_json keeps map order stable).
pub fn digest_json(v: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(v.to_string().as_bytes()))
}

/// The hash of a record: every field but `hash`, separated by a unit separator.
pub fn record_hash(seq: i64, at_ms: i64, ev: &AuditEvent, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    let actor_id = ev.actor_id.map(|i| i.to_string()).unwrap_or_default();
    for part in [
        seq.to_string().as_str(),
        at_ms.to_string().as_str(),
        actor_id.as_str(),
        &ev.actor,
        &ev.object_type,
        &ev.object_id,
        &ev.action,
        &ev.before_digest,
        &ev.after_digest,
        prev_hash,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

impl AuditRecord {
    pub fn event(&self) -> AuditEvent {
        AuditEvent {
            actor_id: self.actor_id,
            actor: self.actor.clone(),
            object_type: self.object_type.clone(),
            object_id: self.object_id.clone(),
            action: self.action.clone(),
            before_digest: self.before_digest.clone(),
            after_digest: self.after_digest.clone(),
        }
    }
}

/// Why a chain failed verification, naming the first broken record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("record {seq}: its hash does not match its contents (edited)")]
    HashMismatch { seq: i64 },
    #[error("record {seq}: prev_hash does not match record {prev}")]
    Unlinked { seq: i64, prev: i64 },
    #[error("record {expected} is missing (next present is {found})")]
    Missing { expected: i64, found: i64 },
    #[error("the chain ends at record {last} but the head says {head} (records deleted at the end)")]
    Truncated { last: i64, head: i64 },
    #[error("the chain head hash does not match record {seq}")]
    HeadMismatch { seq: i64 },
}

/// Incremental verifier: feed records in `seq` order, then [`Verifier::finish`].
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS.to_string(), checked: 0 }
    }
}

impl Verifier {
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainError> {
        if r.seq != self.expected_seq {
            return Err(ChainError::Missing { expected: self.expected_seq, found: r.seq });
        }
        if r.prev_hash != self.prev_hash {
            return Err(ChainError::Unlinked { seq: r.seq, prev: r.seq - 1 });
        }
        if record_hash(r.seq, r.at_ms, &r.event(), &r.prev_hash) != r.hash {
            return Err(ChainError::HashMismatch { seq: r.seq });
        }
        self.prev_hash = r.hash.clone();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Compares the end of the chain with the stored head (last seq and hash).
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<u64, ChainError> {
        let last = self.expected_seq - 1;
        if last != head_seq {
            return Err(ChainError::Truncated { last, head: head_seq });
        }
        if head_hash != self.prev_hash {
            return Err(ChainError::HeadMismatch { seq: last });
        }
        Ok(self.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_string();
        (1..=n as i64)
            .map(|seq| {
                let ev = AuditEvent::new(
                    Some(seq),
                    "u",
                    "task",
                    seq,
                    "dispatch",
                    None,
                    Some(&serde_json::json!({"s": seq})),
                );
                let hash = record_hash(seq, seq * 1000, &ev, &prev);
                let r = AuditRecord {
                    seq,
                    at_ms: seq * 1000,
                    actor_id: ev.actor_id,
                    actor: ev.actor,
                    object_type: ev.object_type,
                    object_id: ev.object_id,
                    action: ev.action,
                    before_digest: ev.before_digest,
                    after_digest: ev.after_digest,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                r
            })
            .collect()
    }

    fn verify(rs: &[AuditRecord], head_seq: i64, head_hash: &str) -> Result<u64, ChainError> {
        let mut v = Verifier::default();
        for r in rs {
            v.push(r)?;
        }
        v.finish(head_seq, head_hash)
    }

    proptest! {
        #[test]
        fn intact_chains_verify(n in 0usize..40) {
            let rs = chain(n);
            let (hs, hh) = rs.last().map(|r| (r.seq, r.hash.clone())).unwrap_or((0, GENESIS.to_string()));
            prop_assert_eq!(verify(&rs, hs, &hh), Ok(n as u64));
        }

        #[test]
        fn any_edit_or_delete_is_found(n in 2usize..40, pick in any::<prop::sample::Index>(), delete in any::<bool>()) {
            let mut rs = chain(n);
            let (hs, hh) = (rs[n - 1].seq, rs[n - 1].hash.clone());
            let i = pick.index(n);
            if delete { rs.remove(i); } else { rs[i].action = "tampered".into(); }
            let err = verify(&rs, hs, &hh).unwrap_err();
            let first_bad = match err {
                ChainError::HashMismatch { seq } | ChainError::Unlinked { seq, .. } | ChainError::HeadMismatch { seq } => seq,
                ChainError::Missing { expected, .. } => expected,
                ChainError::Truncated { last, .. } => last + 1,
            };
            prop_assert_eq!(first_bad, i as i64 + 1);
        }
    }
}
