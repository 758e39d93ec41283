//! The bureau's key lifecycle as its operators use it (`issuer keys`, SPEC §6 and §10):
//! each change to the key registry is audited, and the running service picks it up by
//! itself ([`Bureau::current_engine`]).

use time::{Duration, OffsetDateTime};

use super::{Bureau, BureauError};
use crate::setup::home::{CaRotation, HomeError};
use crate::setup::keystore::Role;
use crate::setup::lifecycle::{KeyEntry, KeyRegistry};

/// One line of `issuer keys list`.
#[derive(Debug, serde::Serialize)]
pub struct KeyLine {
    /// The key's registry entry.
    #[serde(flatten)]
    pub entry: KeyEntry,
    /// Its state now.
    pub state: &'static str,
}

/// What a declared compromise did.
#[derive(Debug, serde::Serialize)]
pub struct Compromise {
    /// The key ids declared compromised.
    pub compromised: Vec<String>,
    /// The fresh key now signing.
    pub replacement: String,
    /// The certificates superseded, oldest first.
    pub superseded: Vec<String>,
    /// Their replacements, in the same order.
    pub reissued: Vec<String>,
}

impl Bureau {
    /// Every key of the registry with its state at `now`, and the registry's sequence.
    pub fn keys(&self, now: OffsetDateTime) -> Result<(u64, Vec<KeyLine>), BureauError> {
        let registry = self.home.key_registry()?;
        let lines = registry
            .keys
            .iter()
            .map(|entry| KeyLine {
                state: entry.state(now).name(),
                entry: entry.clone(),
            })
            .collect();
        Ok((registry.sequence, lines))
    }

    /// Generates, certifies and publishes the next key of `role`, signing from
    /// `now + publication` (audited).
    pub async fn rotate_key(
        &self,
        role: Role,
        publication: Duration,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<KeyEntry, BureauError> {
        if publication.is_negative() {
            return Err(BureauError::Usage(
                "the publication period cannot be negative".into(),
            ));
        }
        let entry = self.home.rotate(role, now, publication)?;
        self.store
            .audit(
                actor,
                "key.rotated",
                &entry.key_id,
                &serde_json::json!({
                    "role": role.name(),
                    "active_from": entry.active_from.map(|t| t.to_string()),
                }),
                now,
            )
            .await?;
        Ok(entry)
    }

    /// Rotates the issuing CA and its end entities, signing from `now + publication`, or,
    /// under an offline root, writes the request the root is to sign (audited either way).
    pub async fn rotate_issuing_ca(
        &self,
        publication: Duration,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<CaRotation, BureauError> {
        if publication.is_negative() {
            return Err(BureauError::Usage(
                "the publication period cannot be negative".into(),
            ));
        }
        let rotation = self.home.rotate_issuing_ca(now, publication)?;
        match &rotation {
            CaRotation::Published(entries) => self.audit_ca_rotation(entries, actor, now).await?,
            CaRotation::AwaitingRoot { request } => {
                self.store
                    .audit(
                        actor,
                        "key.ca_requested",
                        &request.display().to_string(),
                        &serde_json::json!({ "role": Role::IssuingCa.name() }),
                        now,
                    )
                    .await?;
            }
        }
        Ok(rotation)
    }

    /// Ends an issuing CA's rotation under an offline root with the certificate the root
    /// signed and its CRL (audited).
    pub async fn install_next_issuing_ca(
        &self,
        certificate: &[u8],
        crl: &[u8],
        publication: Duration,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<KeyEntry>, BureauError> {
        if publication.is_negative() {
            return Err(BureauError::Usage(
                "the publication period cannot be negative".into(),
            ));
        }
        let entries = self
            .home
            .install_next_issuing_ca(certificate, crl, now, publication)?;
        self.audit_ca_rotation(&entries, actor, now).await?;
        Ok(entries)
    }

    async fn audit_ca_rotation(
        &self,
        entries: &[KeyEntry],
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), BureauError> {
        for entry in entries {
            self.store
                .audit(
                    actor,
                    "key.rotated",
                    &entry.key_id,
                    &serde_json::json!({
                        "role": entry.role.name(),
                        "active_from": entry.active_from.map(|t| t.to_string()),
                        "with": "issuing-ca",
                    }),
                    now,
                )
                .await?;
        }
        Ok(())
    }

    /// Declares `role`'s key compromised as of `since` (SPEC §10), as the playbook
    /// (docs/key-compromise.md) carries it out: the key's certificate revoked as of `since`
    /// with reason keyCompromise (the next CRL lists it), a fresh key active at once, every
    /// current certificate that depended on the key re-issued (the old one SUPERSEDED, its
    /// holder and holding departments told as for any supersession), and the new registry
    /// published in the signed bundle. Audited.
    pub async fn compromise_key(
        &self,
        role: Role,
        since: OffsetDateTime,
        reason: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Compromise, BureauError> {
        if reason.trim().is_empty() {
            return Err(BureauError::Usage("a reason is required".into()));
        }
        if since > now {
            return Err(BureauError::Usage(format!(
                "--since {since} is in the future: a compromise is declared for what already happened"
            )));
        }
        let (marked, replacement) = if role == Role::IssuingCa {
            self.home.compromise_issuing_ca(since, now, reason)?
        } else {
            let pki = self.home.dir().join("pki");
            let mut registry = self.home.key_registry()?;
            let marked = registry
                .compromise(role, since, now, reason)
                .map_err(HomeError::from)?;
            registry.write(&pki).map_err(HomeError::from)?;
            (marked, self.home.rotate(role, now, Duration::ZERO)?.key_id)
        };
        let windows = reissue_windows(&self.home.key_registry()?, &marked, now);
        // The hand-over is at the next whole second (the registry's instants are whole, as
        // tokens' are): re-issue only once the fresh key signs.
        let handover = crate::setup::lifecycle::second_up(now);
        let wait = handover - OffsetDateTime::now_utc();
        if wait.is_positive() {
            tokio::time::sleep(wait.unsigned_abs()).await;
        }
        self.store
            .audit(
                actor,
                "key.compromised",
                &marked.join(","),
                &serde_json::json!({
                    "role": role.name(),
                    "since": since.to_string(),
                    "reason": reason,
                    "replacement": replacement,
                }),
                now,
            )
            .await?;
        // Windows overlap (an issuing CA's end entities): each certificate once, oldest
        // first (numbers are issued in order and zero-padded).
        let mut affected = std::collections::BTreeSet::new();
        for (from, until) in windows {
            affected.extend(
                self.store
                    .current_certificates_issued_between(from, until, now)
                    .await?,
            );
        }
        let affected: Vec<String> = affected.into_iter().collect();
        let why = format!("re-issued: the bureau's {role} key was compromised ({reason})");
        let mut reissued = Vec::with_capacity(affected.len());
        for number in &affected {
            reissued.push(self.reissue(number, actor, &why, None).await?.number);
        }
        Ok(Compromise {
            compromised: marked,
            replacement,
            superseded: affected,
            reissued,
        })
    }

    /// Retires `key_id` at `now` (audited).
    pub async fn retire_key(
        &self,
        key_id: &str,
        reason: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Role, BureauError> {
        let pki = self.home.dir().join("pki");
        let mut registry = self.home.key_registry()?;
        let role = registry
            .retire(key_id, now, reason)
            .map_err(HomeError::from)?;
        registry.write(&pki).map_err(HomeError::from)?;
        self.store
            .audit(
                actor,
                "key.retired",
                key_id,
                &serde_json::json!({ "role": role.name(), "reason": reason }),
                now,
            )
            .await?;
        Ok(role)
    }
}

/// When the keys `marked` compromised may have signed a certificate that must be re-issued:
/// under a token signer, every token it made (a bare token has no trusted time); under a
/// document signer or a TSA, what was signed from its `compromised_since` on (earlier time
/// stamps from an intact TSA still hold). An issuing CA's compromise marks the end entities
/// it certified, which bring their own windows. Under the transfer signer, nothing: envelopes
/// are signed when sent, so those still queued go out under the fresh key, and receivers
/// refuse the stolen one once the bundle no longer lists it.
fn reissue_windows(
    registry: &KeyRegistry,
    marked: &[String],
    now: OffsetDateTime,
) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    marked
        .iter()
        .filter_map(|id| registry.get(id))
        .filter_map(|key| {
            let until = key.retired_at.unwrap_or(now);
            let from = match key.role {
                Role::TokenSigner => key.active_from?,
                Role::DocumentSigner | Role::Tsa => key.compromised_since?,
                Role::IssuingCa | Role::TransferSigner => return None,
            };
            Some((from, until))
        })
        .collect()
}
