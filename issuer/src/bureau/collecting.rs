//! Paper certificates after issuance (issue 11, seed 001): the print queue and its batch PDF,
//! marking printed, collection at a counter by the holder or an authorised representative,
//! and the Smart Locker (deposit with a pickup code, collection with the code within 3 days,
//! and the sweep that returns uncollected items to the headquarters counter).
//!
//! Only printed items can be collected. Clerks print, deposit and hand over; the locker
//! collects with the code alone; the sweep runs in the issuer's background loop. Every time
//! is a parameter (`now`), so tests move the clock.

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{CaseError, Services};
use crate::identity::auth::{Principal, Role};
use crate::notify::messages::Event;
use crate::rules::calendar::{DSI_HQ, SMART_LOCKER, locker_deadline};
use crate::rules::request::{DocumentRequest, HolderRequest, Language, doc_key};
use crate::rules::workflow;
use crate::store::applications::{ApplicationRow, SideEffect, Transition, constant_time_eq};
use crate::store::collection::{CollectionRecord, LockerDeposit, PaperItem};
use crate::store::{parse_time, stored_instant};

/// Applications in one print batch (or one "mark printed") at most.
pub const MAX_PRINT_BATCH: usize = 50;
/// Certificates in one print batch PDF at most (each is at most a few pages).
pub const MAX_PRINT_CERTIFICATES: usize = 200;
/// Applications listed in the print queue at most.
pub const PRINT_QUEUE_LIMIT: i64 = 500;
/// Wrong pickup codes tried on one locker item before the code stops working.
pub const MAX_LOCKER_ATTEMPTS: i64 = 5;
/// Digits of a locker pickup code.
pub const LOCKER_CODE_DIGITS: usize = 8;
/// How the locker and the audit log name the locker's actions.
pub const LOCKER_ACTOR: &str = "locker:SMART_LOCKER";
/// How the audit log names the sweep.
pub const SWEEP_ACTOR: &str = "issuer:locker-sweep";
/// How often the background loop sweeps the locker.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// Items returned per sweep batch; a sweep takes at most [`SWEEP_BATCHES`] batches.
const SWEEP_BATCH: i64 = 100;
const SWEEP_BATCHES: usize = 20;
/// Longest representative name and authorisation reference, in characters.
const MAX_NAME_CHARS: usize = 200;
const MAX_AUTHORISATION_CHARS: usize = 64;

/// One line of the print queue.
#[derive(Clone, Debug, Serialize)]
pub struct PrintQueueItem {
    /// The application reference.
    pub reference: String,
    /// The holder's Latin-script name.
    pub holder_name: String,
    /// The holder's Chinese name, if any.
    pub holder_name_chinese: Option<String>,
    /// Certificates to print.
    pub quantity: i64,
    /// Collection site code.
    pub site: String,
    /// When the first certificate was issued (UTC, RFC 3339).
    pub issued_at: String,
}

/// A print-ready batch.
#[derive(Clone, Debug)]
pub struct PrintBatch {
    /// One PDF with every page of the certificates (not signed: for paper only).
    pub pdf: Vec<u8>,
    /// The certificates in it, in order.
    pub numbers: Vec<String>,
}

/// What the clerk records at the counter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterCollection {
    /// The counter's collection site code (where the clerk hands the certificates over).
    pub site: String,
    /// Who collects.
    pub collector: Collector,
}

/// Who collects at the counter.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum Collector {
    /// The holder, with their identity document (checked against the application's holder).
    Holder {
        /// The document shown.
        document: DocumentRequest,
    },
    /// An authorised representative: the holder's document is not presented.
    Representative {
        /// The representative's name as on their document.
        name: String,
        /// The representative's identity document.
        document: DocumentRequest,
        /// The authorisation's reference (the signed form on the receipt).
        authorisation: String,
    },
}

/// A locker pickup: the code as text and the plain payload for a QR code.
#[derive(Clone, Debug, Serialize)]
pub struct LockerPickup {
    /// The application reference.
    pub reference: String,
    /// The 8-digit code.
    pub code: String,
    /// When the code stops working (Macao time; RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// What the QR code carries: [`locker_qr_payload`].
    pub qr_payload: String,
}

/// What a locker's QR code carries: `CCR-LOCKER:<reference>:<code>`, plain text (no
/// `otpauth:` URI: the locker's scanner reads the reference and the code from it).
pub fn locker_qr_payload(reference: &str, code: &str) -> String {
    format!("CCR-LOCKER:{reference}:{code}")
}

/// A fresh pickup code: 8 uniformly random digits.
fn new_locker_code() -> String {
    let n: u32 = rand::rng().random_range(0..100_000_000);
    format!("{n:08}")
}

fn require_clerk(who: &Principal) -> Result<(), CaseError> {
    if who.role == Role::Clerk {
        Ok(())
    } else {
        Err(CaseError::NotFound(
            "paper certificates are a clerk's work".into(),
        ))
    }
}

/// A batch of references: 1 to [`MAX_PRINT_BATCH`], no repeats.
fn batch(ids: &[String]) -> Result<(), CaseError> {
    if ids.is_empty() {
        return Err(CaseError::invalid("applications", "choose at least one"));
    }
    if ids.len() > MAX_PRINT_BATCH {
        return Err(CaseError::invalid(
            "applications",
            format!("at most {MAX_PRINT_BATCH} applications per batch"),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(repeated) = ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(CaseError::invalid(
            "applications",
            format!("{repeated} is listed twice"),
        ));
    }
    Ok(())
}

/// Trimmed text of 1 to `max` characters without control characters.
fn short_text(field: &str, text: &str, max: usize) -> Result<String, CaseError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CaseError::invalid(field, "required"));
    }
    if text.chars().count() > max {
        return Err(CaseError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(CaseError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(text.to_owned())
}

/// `BIR:…123`: the type and the last 3 characters, for the audit log.
fn masked_key(key: &str) -> String {
    let (kind, number) = key.split_once(':').unwrap_or(("", key));
    let tail: String = number
        .chars()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{kind}:…{tail}")
}

impl Services {
    /// The site's name in `language`, or its code.
    fn site_name(&self, code: &str, language: Language) -> String {
        self.bureau.config().collection_site(code).map_or_else(
            || code.to_owned(),
            |s| match language {
                Language::Zh => s.zh.clone(),
                Language::Pt => s.pt.clone(),
                Language::En => s.en.clone(),
            },
        )
    }

    /// An issued paper application (clerk).
    async fn issued_paper(&self, clerk: &Principal, id: &str) -> Result<ApplicationRow, CaseError> {
        require_clerk(clerk)?;
        let app = self.application_for(clerk, id).await?;
        if app.electronic != 0 {
            return Err(CaseError::Conflict(format!(
                "application {id} is electronic: it is downloaded, not printed or collected"
            )));
        }
        if app.state != workflow::ISSUED {
            return Err(CaseError::Conflict(format!(
                "application {id} is {}; only ISSUED paper certificates are printed and collected",
                app.state
            )));
        }
        Ok(app)
    }

    /// The print queue (clerk): issued paper applications not yet printed, oldest first.
    pub async fn print_queue(&self, clerk: &Principal) -> Result<Vec<PrintQueueItem>, CaseError> {
        require_clerk(clerk)?;
        let rows = self.store().print_queue(PRINT_QUEUE_LIMIT).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let holder: Option<HolderRequest> = row
                    .holder_json
                    .as_deref()
                    .and_then(|j| serde_json::from_str(j).ok());
                PrintQueueItem {
                    reference: row.application_id,
                    holder_name: holder
                        .as_ref()
                        .map(|h| h.name_latin.clone())
                        .unwrap_or_default(),
                    holder_name_chinese: holder.and_then(|h| h.name_chinese),
                    quantity: row.quantity,
                    site: row.collection_site.unwrap_or_default(),
                    issued_at: row.issued_at,
                }
            })
            .collect())
    }

    /// A print-ready PDF of the chosen applications' current certificates (clerk), in the
    /// order given; printed or not yet (a jammed printer prints again). Audited.
    pub async fn print_batch_pdf(
        &self,
        clerk: &Principal,
        ids: &[String],
        now: OffsetDateTime,
    ) -> Result<PrintBatch, CaseError> {
        batch(ids)?;
        let mut certificates = Vec::new();
        for id in ids {
            self.issued_paper(clerk, id).await?;
            let mine = self.store().printable_certificates(id).await?;
            if mine.is_empty() {
                return Err(CaseError::Conflict(format!(
                    "application {id} has no current certificate to print"
                )));
            }
            certificates.extend(mine);
            if certificates.len() > MAX_PRINT_CERTIFICATES {
                return Err(CaseError::invalid(
                    "applications",
                    format!("at most {MAX_PRINT_CERTIFICATES} certificates per batch"),
                ));
            }
        }
        let numbers: Vec<String> = certificates.iter().map(|(n, _)| n.clone()).collect();
        let pdf =
            tokio::task::spawn_blocking(move || crate::issuance::print::concatenate(&certificates))
                .await
                .map_err(|e| CaseError::internal(&e))?
                .map_err(|e| CaseError::internal(&e))?;
        self.store()
            .audit_print_batch(ids, &numbers, &clerk.actor(), now)
            .await?;
        Ok(PrintBatch { pdf, numbers })
    }

    /// Marks the chosen applications printed (clerk), all or none, audited with who and when.
    /// Only printed items can be collected or placed in the locker.
    pub async fn mark_printed(
        &self,
        clerk: &Principal,
        ids: &[String],
        now: OffsetDateTime,
    ) -> Result<Vec<PaperItem>, CaseError> {
        batch(ids)?;
        for id in ids {
            self.issued_paper(clerk, id).await?;
        }
        self.store().mark_printed(ids, &clerk.actor(), now).await?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(item) = self.store().paper_item(id).await? {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// The printed item of an application (clerk, officer): where it is and who collected
    /// it; `None` before printing.
    pub async fn paper_item(
        &self,
        staff: &Principal,
        id: &str,
    ) -> Result<Option<PaperItem>, CaseError> {
        if !matches!(staff.role, Role::Clerk | Role::Officer) {
            return Err(CaseError::NotFound(format!("no application {id}")));
        }
        self.application_for(staff, id).await?;
        Ok(self.store().paper_item(id).await?)
    }

    /// Counter collection (clerk at the counter of `body.site`): the holder with their
    /// identity document (compared in its canonical form with the application's holder), or
    /// an authorised representative (name, identity document, authorisation reference).
    /// Recorded with who collected; the application becomes COLLECTED. Only a printed item,
    /// at this counter: the application's collection site, or headquarters after a locker
    /// return.
    pub async fn collect_at_counter(
        &self,
        clerk: &Principal,
        id: &str,
        body: &CounterCollection,
        now: OffsetDateTime,
    ) -> Result<ApplicationRow, CaseError> {
        let app = self.issued_paper(clerk, id).await?;
        if body.site == SMART_LOCKER || self.bureau.config().collection_site(&body.site).is_none() {
            return Err(CaseError::invalid(
                "site",
                format!("{:?} is not a collection counter", body.site),
            ));
        }
        let item = self.store().paper_item(id).await?.ok_or_else(|| {
            CaseError::Conflict(format!(
                "application {id} is not printed yet: only printed certificates are collected"
            ))
        })?;
        if item.site != body.site {
            return Err(CaseError::Conflict(if item.site == SMART_LOCKER {
                format!(
                    "application {id} is for the Smart Locker: it is collected there with the pickup code, \
                     or at the headquarters counter once returned"
                )
            } else {
                format!(
                    "application {id} is collected at {}, not at this counter ({})",
                    item.site, body.site
                )
            }));
        }
        let holder_key = app.doc_key.clone().ok_or_else(|| {
            CaseError::Conflict(format!("application {id} has no confirmed holder"))
        })?;
        let (kind, name, key, authorisation) = match &body.collector {
            Collector::Holder { document } => {
                let shown = doc_key(&document.parse("collector.document")?);
                if !constant_time_eq(shown.as_bytes(), holder_key.as_bytes()) {
                    return Err(CaseError::invalid(
                        "collector.document",
                        "this is not the holder's identity document on the application; \
                         someone else collects only as an authorised representative",
                    ));
                }
                ("holder", None, shown, None)
            }
            Collector::Representative {
                name,
                document,
                authorisation,
            } => {
                let name = short_text("collector.name", name, MAX_NAME_CHARS)?;
                let shown = doc_key(&document.parse("collector.document")?);
                if shown == holder_key {
                    return Err(CaseError::invalid(
                        "collector.document",
                        "this is the holder's own document: record a collection by the holder",
                    ));
                }
                let authorisation = short_text(
                    "collector.authorisation",
                    authorisation,
                    MAX_AUTHORISATION_CHARS,
                )?;
                ("representative", Some(name), shown, Some(authorisation))
            }
        };
        let actor = clerk.actor();
        let record = CollectionRecord {
            collected_by: &actor,
            kind,
            name: name.as_deref(),
            doc_key: Some(&key),
            authorisation: authorisation.as_deref(),
            at_site: &body.site,
        };
        let step = Transition {
            application_id: &app.id,
            from: &[workflow::ISSUED],
            to: workflow::COLLECTED,
            set: Vec::new(),
            actor: &actor,
            action: "application.collected",
            detail: serde_json::json!({
                "site": body.site,
                "by": kind,
                "representative": name,
                "document": masked_key(&key),
                "authorisation": authorisation,
            }),
            messages: Vec::new(),
            effect: SideEffect::None,
            now,
        };
        self.store().record_collection(&record, &step).await?;
        self.application_now(id).await
    }

    /// Places a printed Smart Locker item in the locker (clerk): a random 8-digit pickup
    /// code, valid 3 days from this collection notice, is sent to the applicant by SMS and
    /// answered here once (as text and QR payload) for the deposit slip.
    pub async fn deposit_in_locker(
        &self,
        clerk: &Principal,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<LockerPickup, CaseError> {
        let app = self.issued_paper(clerk, id).await?;
        if app.collection_site.as_deref() != Some(SMART_LOCKER) {
            return Err(CaseError::Conflict(format!(
                "application {id} is collected at a counter, not from the Smart Locker"
            )));
        }
        if self.store().paper_item(id).await?.is_none() {
            return Err(CaseError::Conflict(format!(
                "application {id} is not printed yet: only printed certificates go into the locker"
            )));
        }
        let code = new_locker_code();
        let deadline = locker_deadline(now);
        let language = app.language.as_deref().and_then(Language::parse);
        let site_name = self.site_name(SMART_LOCKER, language.unwrap_or(Language::Zh));
        let messages = self.sms(
            &app,
            &Event::LockerReady {
                reference: &app.id,
                site_name: &site_name,
                code: &code,
                deadline,
            },
        );
        let actor = clerk.actor();
        self.store()
            .deposit_in_locker(&LockerDeposit {
                application_id: &app.id,
                locker_site: SMART_LOCKER,
                code: &code,
                deadline,
                actor: &actor,
                messages,
                now,
            })
            .await?;
        Ok(LockerPickup {
            qr_payload: locker_qr_payload(&app.id, &code),
            reference: app.id,
            code,
            deadline,
        })
    }

    /// The applicant's own pickup code (text and QR payload) while their certificates are
    /// in the locker and the code works; `None` otherwise. Only the applicant sees it.
    pub async fn locker_pickup(
        &self,
        applicant: &Principal,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LockerPickup>, CaseError> {
        if applicant.role != Role::Applicant {
            return Err(CaseError::NotFound(format!("no application {id}")));
        }
        let app = self.application_for(applicant, id).await?;
        let Some(item) = self.store().paper_item(&app.id).await? else {
            return Ok(None);
        };
        let (Some(code), Some(deadline)) = (item.locker_code, item.locker_deadline) else {
            return Ok(None);
        };
        let deadline = parse_time(&deadline)?.to_offset(crate::rules::calendar::MACAO);
        if item.collected_at.is_some() || item.returned_at.is_some() || now >= deadline {
            return Ok(None);
        }
        Ok(Some(LockerPickup {
            qr_payload: locker_qr_payload(&app.id, &code),
            reference: app.id,
            code,
            deadline,
        }))
    }

    /// Collection from the Smart Locker with the pickup code (the locker itself; the HTTP
    /// layer authenticates the device). Accepted before the deadline (3 days after the
    /// notice), refused at or after it; a wrong code is refused and counted, and after
    /// [`MAX_LOCKER_ATTEMPTS`] wrong codes the item no longer opens with a code.
    pub async fn collect_from_locker(
        &self,
        reference: &str,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<ApplicationRow, CaseError> {
        if code.len() != LOCKER_CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CaseError::invalid(
                "code",
                format!("a pickup code is {LOCKER_CODE_DIGITS} digits"),
            ));
        }
        let nothing =
            || CaseError::NotFound(format!("no certificate in the locker for {reference}"));
        let item = self
            .store()
            .count_locker_attempt(reference)
            .await?
            .ok_or_else(nothing)?;
        let (Some(stored), Some(deadline)) = (&item.locker_code, &item.locker_deadline) else {
            return Err(nothing());
        };
        let deadline = parse_time(deadline)?;
        if now >= deadline {
            return Err(CaseError::Conflict(format!(
                "the pickup code expired at {}; the certificate goes back to the headquarters counter",
                stored_instant(deadline)
            )));
        }
        if item.locker_attempts > MAX_LOCKER_ATTEMPTS {
            return Err(CaseError::Limited(
                "too many wrong pickup codes: this item no longer opens with a code; it goes back to \
                 the headquarters counter at its deadline"
                    .into(),
            ));
        }
        if !constant_time_eq(stored.as_bytes(), code.as_bytes()) {
            let left = MAX_LOCKER_ATTEMPTS - item.locker_attempts;
            return Err(CaseError::invalid(
                "code",
                format!("wrong pickup code ({left} attempts left)"),
            ));
        }
        let record = CollectionRecord {
            collected_by: LOCKER_ACTOR,
            kind: "locker",
            name: None,
            doc_key: None,
            authorisation: None,
            at_site: &item.site,
        };
        let step = Transition {
            application_id: reference,
            from: &[workflow::ISSUED],
            to: workflow::COLLECTED,
            set: Vec::new(),
            actor: LOCKER_ACTOR,
            action: "application.collected",
            detail: serde_json::json!({ "site": item.site, "by": "locker" }),
            messages: Vec::new(),
            effect: SideEffect::None,
            now,
        };
        self.store().record_collection(&record, &step).await?;
        self.application_now(reference).await
    }

    /// The sweep: every locker item whose deadline passed by `now` goes back to the
    /// headquarters counter (its site becomes `DSI_HQ`, its code stops working), and the
    /// applicant is told. Idempotent: an item is returned once. Answers how many were
    /// returned now.
    pub async fn return_expired_locker_items(
        &self,
        now: OffsetDateTime,
    ) -> Result<usize, CaseError> {
        let mut returned = 0;
        for _ in 0..SWEEP_BATCHES {
            let expired = self
                .store()
                .expired_locker_items(SMART_LOCKER, now, SWEEP_BATCH)
                .await?;
            if expired.is_empty() {
                break;
            }
            for item in expired {
                let app = self.application_now(&item.application_id).await?;
                let language = app
                    .language
                    .as_deref()
                    .and_then(Language::parse)
                    .unwrap_or(Language::Zh);
                let site_name = self.site_name(DSI_HQ, language);
                let messages = self.sms(
                    &app,
                    &Event::ReturnedToHeadquarters {
                        reference: &app.id,
                        site_name: &site_name,
                    },
                );
                if self
                    .store()
                    .return_to_headquarters(
                        &app.id,
                        SMART_LOCKER,
                        DSI_HQ,
                        &messages,
                        SWEEP_ACTOR,
                        now,
                    )
                    .await?
                {
                    returned += 1;
                }
            }
        }
        Ok(returned)
    }

    /// The background loop of `issuer serve`: sweeps the locker every [`SWEEP_EVERY`].
    pub async fn sweep_locker_forever(self: std::sync::Arc<Self>) {
        loop {
            match self
                .return_expired_locker_items(OffsetDateTime::now_utc())
                .await
            {
                Ok(0) => {}
                Ok(n) => eprintln!(
                    "issuer: {n} Smart Locker item(s) returned to the headquarters counter"
                ),
                Err(e) => eprintln!("issuer: Smart Locker sweep failed: {e}"),
            }
            tokio::time::sleep(SWEEP_EVERY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_collection_bodies() {
        let holder: CounterCollection = serde_json::from_str(
            r#"{"site":"DSI_HQ","collector":{"by":"holder","document":{"type":"BIR","number":"1234567(8)"}}}"#,
        )
        .expect("holder");
        assert!(matches!(holder.collector, Collector::Holder { .. }));
        let representative: CounterCollection = serde_json::from_str(
            r#"{"site":"CSG_ISLANDS","collector":{"by":"representative","name":"LEI Mei Ling",
                "document":{"type":"PASSPORT","number":"K1234567"},"authorisation":"AUTH-1"}}"#,
        )
        .expect("representative");
        assert!(matches!(
            representative.collector,
            Collector::Representative { ref authorisation, .. } if authorisation == "AUTH-1"
        ));
        for bad in [
            // No authorisation for a representative.
            r#"{"site":"DSI_HQ","collector":{"by":"representative","name":"X","document":{"type":"BIR","number":"1"}}}"#,
            // An unknown collector, an unknown field.
            r#"{"site":"DSI_HQ","collector":{"by":"friend","document":{"type":"BIR","number":"1"}}}"#,
            r#"{"site":"DSI_HQ","collector":{"by":"holder","document":{"type":"BIR","number":"1"},"extra":1}}"#,
            r#"{"collector":{"by":"holder","document":{"type":"BIR","number":"1"}}}"#,
        ] {
            assert!(
                serde_json::from_str::<CounterCollection>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn codes_payloads_and_masks() {
        for _ in 0..200 {
            let code = new_locker_code();
            assert_eq!(code.len(), LOCKER_CODE_DIGITS);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(
            locker_qr_payload("A-0123ABCD-EFGH4567", "00420815"),
            "CCR-LOCKER:A-0123ABCD-EFGH4567:00420815"
        );
        assert_eq!(masked_key("BIR:12345678"), "BIR:…678");
        assert_eq!(masked_key("PASSPORT:K1"), "PASSPORT:…K1");
    }

    #[test]
    fn batches_are_bounded_and_distinct() {
        assert!(batch(&[]).is_err());
        assert!(batch(&["A".into(), "A".into()]).is_err());
        let full: Vec<String> = (0..MAX_PRINT_BATCH).map(|i| format!("A-{i}")).collect();
        assert!(batch(&full).is_ok());
        let over: Vec<String> = (0..=MAX_PRINT_BATCH).map(|i| format!("A-{i}")).collect();
        assert!(batch(&over).is_err());
    }
}
