//! Pushing transfers to departments (SPEC §9): the delivery worker of `issuer serve`, the
//! backoff schedule, the webhook transport and receipt checking.
//!
//! The envelope's body is fixed when the change that causes it commits (see
//! `store::deliveries`); each send signs it afresh with the transfer-signing key and the
//! current `webhook-timestamp`, so a retry days later still passes a receiver's ±300 s window.
//!
//! HTTP client: the blocking `ureq` already in the workspace (no second HTTP stack to audit),
//! one shared agent, run in `spawn_blocking`; connect and global timeouts, no redirects, no
//! environment proxy, and the answer read up to [`ccr_pki::transfer::MAX_RECEIPT_BYTES`].

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use ccr_pki::transfer::{ReceiptKey, ReceiptResult, sha256_hex};

use crate::bureau::{Bureau, BureauError};
use crate::store::deliveries::{ClaimedDelivery, Outcome};

/// How long one send may take, all included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long to wait for the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a claimed delivery belongs to one worker (longer than a send can take).
pub const LEASE: time::Duration = time::Duration::seconds(60);
/// Delivery tasks per instance (each works on a different lane).
pub const WORKERS: usize = 4;
/// The longest pause between two looks at the outbox when it is idle.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Test-only: divides every backoff delay by this number (the tests' injected clock for
/// retries). Never set in production.
pub const BACKOFF_DIVISOR_ENV: &str = "CCR_TRANSFER_BACKOFF_DIVISOR";

fn scaled(delay: time::Duration) -> time::Duration {
    let divisor = std::env::var(BACKOFF_DIVISOR_ENV)
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|d| *d > 0)
        .unwrap_or(1);
    delay / divisor
}

/// When to try again after the `failures`th failure, `since_first` after the first one
/// (SPEC §9: immediately, 5 s, 1 min, 5 min, then every 15 min for 72 h, then hourly).
pub fn backoff(failures: i64, since_first: time::Duration) -> time::Duration {
    match failures {
        i64::MIN..=1 => time::Duration::seconds(5),
        2 => time::Duration::minutes(1),
        3 => time::Duration::minutes(5),
        _ if since_first < time::Duration::hours(72) => time::Duration::minutes(15),
        _ => time::Duration::hours(1),
    }
}

/// What the department's endpoint answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body (capped).
    pub body: Vec<u8>,
}

/// Sends one signed envelope. Errors are transport failures (nothing was answered).
pub trait Transport: Send + Sync {
    /// POSTs `body` with `headers` to `url`.
    fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<Answer, String>;
}

/// The HTTP transport: one shared `ureq` agent.
#[derive(Debug, Clone)]
pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(SEND_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .user_agent("ccr-issuer-transfer")
            .build()
            .new_agent();
        Self { agent }
    }
}

impl Transport for Http {
    fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<Answer, String> {
        let mut request = self
            .agent
            .post(url)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = request.send(body).map_err(|e| match e {
            ureq::Error::Timeout(_) => format!("no answer within {} s", SEND_TIMEOUT.as_secs()),
            other => format!("cannot reach the endpoint: {other}"),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(ccr_pki::transfer::MAX_RECEIPT_BYTES as u64)
            .read_to_vec()
            .map_err(|e| format!("answer unreadable or larger than the receipt limit: {e}"))?;
        Ok(Answer { status, body })
    }
}

/// Checks an answer: only `200` with a receipt signed by the department's registered key, for
/// this delivery, department and exact body (and PDF), closes the delivery.
pub fn check_answer(claimed: &ClaimedDelivery, answer: &Answer) -> Result<Outcome, String> {
    if answer.status != 200 {
        return Err(format!("HTTP status {}", answer.status));
    }
    let jws = std::str::from_utf8(&answer.body)
        .map_err(|_| "200 without a receipt (not text)".to_owned())?
        .trim();
    if jws.is_empty() {
        return Err("200 without a receipt".into());
    }
    let key = ReceiptKey::from_pem(&claimed.receipt_key_pem)
        .map_err(|e| format!("registered receipt key unusable: {e}"))?;
    let receipt = key.verify(jws).map_err(|e| e.to_string())?;
    if receipt.delivery_id != claimed.id || receipt.department != claimed.department {
        return Err("receipt names another delivery or department".into());
    }
    if receipt.body_sha256 != sha256_hex(&claimed.body) {
        return Err("receipt is for another body".into());
    }
    let reject_reason = match receipt.result {
        ReceiptResult::Accepted => {
            let envelope = ccr_pki::transfer::Envelope::parse(&claimed.body)
                .map_err(|e| format!("stored envelope: {e}"))?;
            let pdf = envelope.pdf_bytes().map_err(|e| e.to_string())?;
            if receipt.pdf_sha256 != pdf.as_deref().map(sha256_hex) {
                return Err("receipt names another PDF".into());
            }
            None
        }
        ReceiptResult::Rejected => Some(
            receipt
                .reason
                .unwrap_or_else(|| "rejected without a reason".into()),
        ),
    };
    Ok(Outcome::Receipt {
        jws: jws.to_owned(),
        reject_reason,
    })
}

/// The Standard Webhooks headers for one send of `claimed`, signed at `unix_now`. Fails
/// when the transfer key's token does (the send is then retried like a failed one).
pub fn webhook_headers(
    bureau: &Bureau,
    claimed: &ClaimedDelivery,
    unix_now: i64,
) -> Result<[(&'static str, String); 3], BureauError> {
    let at = OffsetDateTime::from_unix_timestamp(unix_now)
        .map_err(|e| BureauError::Usage(format!("webhook timestamp {unix_now}: {e}")))?;
    let signature =
        bureau
            .transfer_signer(at)?
            .sign_webhook(&claimed.id, unix_now, &claimed.body)?;
    Ok([
        ("webhook-id", claimed.id.clone()),
        ("webhook-timestamp", unix_now.to_string()),
        ("webhook-signature", signature),
    ])
}

/// Claims one due delivery as `owner` and sends it; `now` is the scheduling clock (injected
/// by tests), the webhook timestamp is always the wall clock. Returns whether there was one.
pub async fn deliver_due(
    bureau: &Arc<Bureau>,
    transport: &Arc<dyn Transport>,
    owner: &str,
    now: OffsetDateTime,
) -> Result<bool, crate::store::StoreError> {
    let Some(claimed) = bureau.store().claim_delivery(owner, now, LEASE).await? else {
        return Ok(false);
    };
    let started = std::time::Instant::now();
    let answer = match webhook_headers(bureau, &claimed, OffsetDateTime::now_utc().unix_timestamp())
    {
        Ok(headers) => {
            let sender = Arc::clone(transport);
            let (url, body) = (claimed.endpoint.clone(), claimed.body.clone());
            tokio::task::spawn_blocking(move || sender.post(&url, &headers, &body))
                .await
                .map_err(|e| format!("send task failed: {e}"))
                .and_then(|r| r)
        }
        Err(e) => Err(format!("cannot sign the envelope: {e}")),
    };
    // An answer after the send timeout does not count, whatever the HTTP client's own timer
    // did (in one CI run a receipt sent 22 s after the request closed the delivery): the lease is sized
    // from the timeout, and past it another worker may be sending the same delivery.
    let took = started.elapsed();
    let answer = answer.and_then(|a| {
        if took > SEND_TIMEOUT {
            Err(format!(
                "answered after {:.1} s, past the {} s send timeout",
                took.as_secs_f64(),
                SEND_TIMEOUT.as_secs()
            ))
        } else {
            Ok(a)
        }
    });
    // The scheduling clock advanced by the time the send took: a receipt is stored as of
    // when it arrived, and a retry is scheduled from when the failure was known.
    let now = now + time::Duration::try_from(took).unwrap_or(time::Duration::ZERO);
    let outcome = match answer.and_then(|a| check_answer(&claimed, &a)) {
        Ok(outcome) => outcome,
        Err(error) => {
            let since_first = claimed
                .first_failure_at
                .as_deref()
                .and_then(|t| crate::store::parse_time(t).ok())
                .map_or(time::Duration::ZERO, |first| now - first);
            Outcome::Failed {
                retry_at: now + scaled(backoff(claimed.failures + 1, since_first)),
                error,
            }
        }
    };
    bureau
        .store()
        .finish_delivery(&claimed, owner, &outcome, now)
        .await?;
    Ok(true)
}

/// One delivery task of `issuer serve`: works through the due lanes forever.
pub async fn delivery_worker(bureau: Arc<Bureau>, transport: Arc<dyn Transport>) {
    let owner = crate::store::random_id("W");
    loop {
        match deliver_due(&bureau, &transport, &owner, OffsetDateTime::now_utc()).await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(IDLE_POLL).await,
            Err(e) => {
                eprintln!("issuer: transfer delivery: {e}");
                tokio::time::sleep(IDLE_POLL * 8).await;
            }
        }
    }
}

/// Checks a department's push endpoint: an absolute `https://` URL, or `http://` to a
/// loopback address (development and tests), at most 2,000 characters.
pub fn validate_endpoint(url: &str) -> Result<(), String> {
    let bad = || format!("endpoint {url:?}: an https:// URL (http:// only to a loopback address)");
    if url.len() > 2000 || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad());
    }
    let uri: ureq::http::Uri = url.parse().map_err(|_| bad())?;
    let host = uri.host().ok_or_else(bad)?;
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if loopback => Ok(()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_the_schedule_of_section_9() {
        let h = time::Duration::hours;
        assert_eq!(backoff(1, h(0)), time::Duration::seconds(5));
        assert_eq!(backoff(2, h(0)), time::Duration::minutes(1));
        assert_eq!(backoff(3, h(0)), time::Duration::minutes(5));
        assert_eq!(backoff(4, h(0)), time::Duration::minutes(15));
        assert_eq!(backoff(200, h(71)), time::Duration::minutes(15));
        assert_eq!(backoff(300, h(72)), h(1));
    }

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        assert!(validate_endpoint("https://dsal.gov.mo/inbox").is_ok());
        assert!(validate_endpoint("http://127.0.0.1:8082/inbox").is_ok());
        assert!(validate_endpoint("http://[::1]:8082/inbox").is_ok());
        assert!(validate_endpoint("http://dsal.gov.mo/inbox").is_err());
        assert!(validate_endpoint("ftp://127.0.0.1/inbox").is_err());
        assert!(validate_endpoint("/inbox").is_err());
        assert!(validate_endpoint("https://a b/").is_err());
    }
}
