//! Delivers the outbox to the configured external system: each message is
//! POSTed as JSON with `X-Zhufang-Id` (the idempotency key),
//! `X-Zhufang-Timestamp` and `X-Zhufang-Signature: sha256=<hex HMAC-SHA256
//! of "timestamp.body" with the shared secret>`. A 2xx answer marks it
//! delivered; anything else is retried with exponential backoff (5 s
//! doubling, at most an hour), so a receiver that is down misses nothing.

use crate::state::{AppState, Webhook};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header's value for a body sent at `timestamp` (seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// When to try again after `attempts` failures (counting the one just made).
pub fn backoff(attempts: i64) -> Duration {
    let secs = 5_i64.saturating_mul(1_i64 << attempts.clamp(0, 20)).min(3600);
    Duration::seconds(secs)
}

/// Checks that a CA file holds at least one PEM certificate.
pub fn check_ca_pem(pem: &[u8]) -> Result<(), String> {
    match reqwest::Certificate::from_pem_bundle(pem) {
        Ok(certs) if !certs.is_empty() => Ok(()),
        Ok(_) => Err("no PEM certificate in it".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The HTTP client for the webhook: a 10 s timeout; TLS (rustls) trusting
/// the system's roots and the configured intranet CA.
pub fn client(hook: &Webhook) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10));
    if let Some(pem) = &hook.extra_root_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("webhook CA file: {e}"))? {
            b = b.add_root_certificate(cert);
        }
    }
    b.build().map_err(|e| e.to_string())
}

/// Delivers what is due at `now`; returns (delivered, failed).
pub async fn deliver_due(state: &AppState, now: DateTime<Utc>) -> Result<(usize, usize), zhufang_store::StoreError> {
    let Some(hook) = state.cfg.webhook.clone() else { return Ok((0, 0)) };
    let _one_at_a_time = state.outbox_lock.lock().await;
    let client = match state.webhook_client.get_or_init(|| client(&hook)) {
        Ok(c) => c.clone(),
        Err(e) => {
            tracing::error!(error = %e, "webhook client: cannot be built; nothing delivered");
            return Ok((0, 0));
        }
    };
    let (mut ok, mut failed) = (0, 0);
    loop {
        let due = state.store.due_outbox(now, 100).await?;
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for m in due {
            match send(&client, &hook, &m).await {
                Ok(()) => {
                    state.store.outbox_delivered(m.id, Utc::now()).await?;
                    ok += 1;
                    progressed = true;
                }
                Err(e) => {
                    tracing::warn!(key = %m.key, attempts = m.attempts + 1, error = %e, "outbox delivery failed; will retry");
                    state.store.outbox_failed(m.id, now.max(Utc::now()) + backoff(m.attempts + 1), &e).await?;
                    failed += 1;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    Ok((ok, failed))
}

async fn send(client: &reqwest::Client, hook: &Webhook, m: &zhufang_store::model::OutboxMessage) -> Result<(), String> {
    let body = serde_json::to_vec(&m.payload).map_err(|e| e.to_string())?;
    let ts = Utc::now().timestamp();
    let r = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("x-zhufang-id", &m.key)
        .header("x-zhufang-topic", &m.topic)
        .header("x-zhufang-timestamp", ts.to_string())
        .header("x-zhufang-signature", signature(&hook.secret, ts, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    if r.status().is_success() { Ok(()) } else { Err(format!("HTTP {}", r.status())) }
}

/// Starts a delivery round in the background (after a change that queued messages).
pub fn kick(state: &AppState) {
    if state.cfg.webhook.is_none() {
        return;
    }
    let s = state.clone();
    tokio::spawn(async move {
        if let Err(e) = deliver_due(&s, Utc::now()).await {
            tracing::error!(error = %e, "outbox delivery round failed");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_backoff() {
        // HMAC-SHA256("key", "1700000000.{}")
        let s = signature("key", 1_700_000_000, b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_ne!(s, signature("other", 1_700_000_000, b"{}"));
        assert_ne!(s, signature("key", 1_700_000_001, b"{}"));
        assert_eq!((backoff(1).num_seconds(), backoff(2).num_seconds(), backoff(30).num_seconds()), (10, 20, 3600));
    }
}
