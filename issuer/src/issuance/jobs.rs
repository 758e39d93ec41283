//! Background work of `issuer serve`: issuance workers that drain the durable job queue,
//! the step that marks fully issued applications (and tells the applicant, or the
//! department of a transfer), and the dispatcher that delivers the notification outbox.
//!
//! Everything here restarts from the registry: a killed process loses no job (its lease runs
//! out and another worker takes it, with the same reserved number) and no message.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::bureau::{Bureau, BureauError};
use crate::notify::messages::Event;
use crate::providers::Transport;
use crate::rules::request::Language;
use crate::rules::workflow;
use crate::store::applications::{Outgoing, SideEffect, Transition};
use crate::store::jobs::{ClaimedJob, JobFailure, JobOutcome};

/// Fault injection for crash tests: hold each job this many milliseconds between its
/// reservation and its document (the test kills the process there). Never set in production.
pub const FAULT_PAUSE_ENV: &str = "CCR_FAULT_PAUSE_AFTER_RESERVE_MS";

/// Longest wait between two looks at the queue when nothing wakes the workers.
const IDLE_POLL: Duration = Duration::from_secs(2);

/// How long a claimed job is reserved for one worker before another may take it.
pub fn lease(bureau: &Bureau) -> time::Duration {
    time::Duration::seconds(bureau.config().application.issuance_lease_seconds)
}

fn fault_pause() -> Option<Duration> {
    std::env::var(FAULT_PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
}

/// One issuance worker: claims and runs jobs until the process ends.
pub async fn issuance_worker(bureau: Arc<Bureau>, wake: Arc<tokio::sync::Notify>) {
    let pause = fault_pause();
    loop {
        let now = OffsetDateTime::now_utc();
        match bureau.store().claim_job(now, lease(&bureau)).await {
            Ok(Some(job)) => {
                if let Err(e) = bureau.run_job(&job, pause).await {
                    record_failure(&bureau, &job, &e).await;
                }
                finish_applications(&bureau).await;
            }
            Ok(None) => {
                finish_applications(&bureau).await;
                let _ = tokio::time::timeout(IDLE_POLL, wake.notified()).await;
            }
            Err(e) => {
                eprintln!("issuer: cannot read the issuance queue: {e}");
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
}

/// Wait before retry number `attempts` + 1: `base`, 2 × `base`, 4 × `base`, … at most 5 min.
fn backoff(base_seconds: i64, attempts: i64) -> time::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    time::Duration::seconds(
        base_seconds
            .saturating_mul(2i64.saturating_pow(doublings))
            .min(300),
    )
}

/// Notes a failed attempt: retried after a bounded backoff, or marked failed (audited, shown
/// to staff) when the error is permanent or the attempts are used up.
async fn record_failure(bureau: &Bureau, job: &ClaimedJob, error: &BureauError) {
    let application = &bureau.config().application;
    let now = OffsetDateTime::now_utc();
    let message = error.to_string();
    let failure = JobFailure {
        error: &message,
        permanent: error.is_permanent(),
        max_attempts: application.issuance_max_attempts,
        retry_at: now + backoff(application.issuance_backoff_seconds, job.attempts),
    };
    match bureau.store().fail_job(job, &failure, now).await {
        Ok(JobOutcome::Retry) => eprintln!(
            "issuer: issuance job {} failed (attempt {}), will retry: {message}",
            job.id, job.attempts
        ),
        Ok(JobOutcome::Failed) => eprintln!(
            "issuer: issuance job {} FAILED after {} attempt(s): {message}",
            job.id, job.attempts
        ),
        Err(e) => eprintln!("issuer: cannot record the failure of job {}: {e}", job.id),
    }
}

/// Marks every approved application whose jobs are all done as ISSUED, telling the
/// applicant (download, or collection of paper) and the receiving department.
pub async fn finish_applications(bureau: &Bureau) {
    let Ok(ids) = bureau.store().finished_applications().await else {
        return;
    };
    for id in ids {
        if let Err(e) = finish(bureau, &id).await {
            eprintln!("issuer: cannot mark application {id} issued: {e}");
        }
    }
}

async fn finish(bureau: &Bureau, id: &str) -> Result<(), crate::store::StoreError> {
    let store = bureau.store();
    let Some(app) = store.application(id).await? else {
        return Ok(());
    };
    let certificates = store.certificates_of(id).await?;
    let numbers: Vec<String> = certificates.iter().map(|c| c.number.clone()).collect();
    let now = OffsetDateTime::now_utc();
    let valid_until = certificates
        .first()
        .and_then(|c| crate::store::parse_time(&c.valid_until).ok())
        .map_or(now.date(), |t| {
            t.to_offset(crate::rules::calendar::MACAO).date()
        });
    let language = app
        .language
        .as_deref()
        .and_then(Language::parse)
        .unwrap_or(Language::Zh);
    let mut messages = Vec::new();
    if let Some(mobile) = &app.mobile {
        let site_name = app
            .collection_site
            .as_deref()
            .and_then(|s| bureau.config().collection_site(s))
            .map(|s| match language {
                Language::Zh => s.zh.clone(),
                Language::Pt => s.pt.clone(),
                Language::En => s.en.clone(),
            });
        let locker = app.collection_site.as_deref() == Some(crate::rules::calendar::SMART_LOCKER);
        let event = match &site_name {
            // A Smart Locker item's notice (with its pickup code, valid 3 days from that
            // notice) is sent when the printed certificates are placed in the locker
            // (`Services::deposit_in_locker`), not now.
            Some(_) if app.electronic == 0 && locker => None,
            Some(site_name) if app.electronic == 0 => Some(Event::ReadyForCollection {
                reference: &app.id,
                site_name,
                from: now,
                locker_deadline: None,
            }),
            _ => Some(Event::CertificateIssued {
                reference: &app.id,
                numbers: &numbers,
                valid_until,
            }),
        };
        if let Some(event) = event {
            messages.push(Outgoing::sms(mobile, language, &event, &app.id));
        }
        if let Some(department) = &app.transfer_to {
            let name = store.department(department).await?.map_or_else(
                || department.clone(),
                |d| match language {
                    Language::Zh => d.name_zh,
                    Language::Pt => d.name_pt,
                    Language::En => d.name_en,
                },
            );
            let event = Event::TransferredToDepartment {
                reference: &app.id,
                department_name: &name,
            };
            messages.push(Outgoing::sms(mobile, language, &event, &app.id));
        }
    }
    if let Some(department) = &app.transfer_to {
        messages.push(Outgoing {
            channel: "department",
            recipient: department.clone(),
            language: "en",
            subject: "Certificate transferred".into(),
            body: format!(
                "DSI: certificate(s) {} of application {} were transferred to you; download them from /api/v1/transfers.",
                numbers.join(", "),
                app.id
            ),
            reference: app.id.clone(),
        });
    }
    let step = Transition {
        application_id: id,
        from: &[workflow::APPROVED],
        to: workflow::ISSUED,
        set: Vec::new(),
        actor: "issuer:jobs",
        action: "application.issued",
        detail: serde_json::json!({ "certificates": numbers }),
        messages,
        effect: SideEffect::None,
        now,
    };
    match store.transition(&step).await {
        Ok(()) | Err(crate::store::StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Delivers undelivered SMS messages through `sms`, forever. Department messages stay in
/// the outbox until the department reads them.
pub async fn dispatch_forever(bureau: Arc<Bureau>, sms: Arc<dyn Transport>) {
    loop {
        match bureau.store().undelivered("sms", 50).await {
            Ok(batch) => {
                for message in batch {
                    let transport = Arc::clone(&sms);
                    let delivery = message.clone();
                    let outcome = tokio::task::spawn_blocking(move || transport.deliver(&delivery))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    let _ = bureau
                        .store()
                        .mark_delivery(message.id, outcome, OffsetDateTime::now_utc())
                        .await;
                }
            }
            Err(e) => eprintln!("issuer: cannot read the outbox: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_from_the_base_and_is_bounded() {
        assert_eq!(backoff(2, 1), time::Duration::seconds(2));
        assert_eq!(backoff(2, 2), time::Duration::seconds(4));
        assert_eq!(backoff(2, 4), time::Duration::seconds(16));
        assert_eq!(backoff(2, 1_000), time::Duration::seconds(300));
        assert_eq!(backoff(1, i64::MAX), time::Duration::seconds(300));
    }
}
