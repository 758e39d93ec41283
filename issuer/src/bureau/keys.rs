//! The bureau's key lifecycle as its operators use it (`issuer keys`, SPEC §6 and §10):
//! each change to the key registry is audited, and the running service picks it up by
//! itself ([`Bureau::current_engine`]).

use time::{Duration, OffsetDateTime};

use super::{Bureau, BureauError};
use crate::setup::home::{CaRotation, HomeError};
use crate::setup::keystore::Role;
use crate::setup::lifecycle::KeyEntry;

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
        if role == Role::IssuingCa {
            return Err(BureauError::Usage(format!(
                "a compromise of {role} is handled from the offline root (docs/key-compromise.md)"
            )));
        }
        let pki = self.home.dir().join("pki");
        let mut registry = self.home.key_registry()?;
        let marked = registry
            .compromise(role, since, now, reason)
            .map_err(HomeError::from)?;
        registry.write(&pki).map_err(HomeError::from)?;
        // What the stolen key may have signed: under the token signer, every token it made
        // (a bare token has no trusted time); under the document signer or the TSA, what was
        // signed from `since` on (earlier time stamps from an intact TSA still hold). Under
        // the transfer signer, nothing to re-issue: envelopes are signed when sent, so those
        // still queued go out under the fresh key, and receivers refuse the stolen one once
        // the bundle no longer lists it.
        let windows: Vec<(OffsetDateTime, OffsetDateTime)> = marked
            .iter()
            .filter(|_| role != Role::TransferSigner)
            .filter_map(|id| registry.get(id))
            .filter_map(|key| {
                let until = key.retired_at.unwrap_or(now);
                let from = if role == Role::TokenSigner {
                    key.active_from?
                } else {
                    key.compromised_since?
                };
                Some((from, until))
            })
            .collect();
        let replacement = self.home.rotate(role, now, Duration::ZERO)?;
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
                    "replacement": replacement.key_id,
                }),
                now,
            )
            .await?;
        let mut affected = Vec::new();
        for (from, until) in windows {
            affected.extend(
                self.store
                    .current_certificates_issued_between(from, until, now)
                    .await?,
            );
        }
        let why = format!("re-issued: the bureau's {role} key was compromised ({reason})");
        let mut reissued = Vec::with_capacity(affected.len());
        for number in &affected {
            reissued.push(self.reissue(number, actor, &why, None).await?.number);
        }
        Ok(Compromise {
            compromised: marked,
            replacement: replacement.key_id,
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
