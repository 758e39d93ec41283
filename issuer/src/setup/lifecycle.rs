//! The bureau's key registry (SPEC §10): every key each online role has had, and where it is
//! in its life, kept in `pki/keys.json`.
//!
//! ```text
//! pending ──certified──▶ published ──active_from──▶ active ──retired_at──▶ retired ──▶ removed
//!                        (in the bundle,                     (verify-only)   (out of the bundle
//!                         signs nothing)                                      after RETENTION)
//! ```
//!
//! A state is never stored: it follows from the recorded instants and the clock, so a key
//! published now with `active_from` an hour ahead becomes active by itself, and its
//! predecessor's `retired_at` is that same instant: one role never has two keys signing.
//! Every change raises `sequence`, which the signed trust bundle carries so that verifiers
//! can refuse an older one. The file is replaced atomically (a temporary file and a rename).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use ccr_pki::bundle::KeyWindow;

use crate::setup::keystore::Role;

/// The registry's file name in `pki/`.
pub const REGISTRY_FILE: &str = "keys.json";

/// How long a new key is published before it signs: the verifier's bundle cache period
/// (`verifier` refetches a cached bundle after an hour), so that every verifier knows a key
/// before it sees anything signed by it.
pub const DEFAULT_PUBLICATION: Duration = Duration::hours(1);

/// How long a retired key stays in the bundle: the longest a certificate it signed can be
/// current (90 days), and a day's margin.
pub const RETENTION: Duration = Duration::days(91);

/// `t` rounded up to a whole second. Every instant the registry records is whole: a token's
/// or a status list's `iat` is whole seconds, and a key handed over at 09.4 s would otherwise
/// see its first token dated 09 s, "before it became active". A hand-over or retirement is
/// rounded up (the old key may still sign until then), a compromise's start down.
pub fn second_up(t: OffsetDateTime) -> OffsetDateTime {
    let floor = second_down(t);
    if floor == t {
        t
    } else {
        floor + Duration::SECOND
    }
}

/// `t` rounded down to a whole second (see [`second_up`]).
fn second_down(t: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.unix_timestamp()).unwrap_or(t)
}

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Generated, not yet certified and published (a rotation that did not finish).
    Pending,
    /// In the trust bundle; signs nothing yet.
    Published,
    /// The role's signing key.
    Active,
    /// Verify-only: still in the bundle for what it signed while active.
    Retired,
    /// Out of the bundle.
    Removed,
}

impl KeyState {
    /// The state's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Published => "published",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Removed => "removed",
        }
    }
}

/// One key of the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// Its role.
    pub role: Role,
    /// Its key id (hex; SPEC §10).
    pub key_id: String,
    /// Its certificate's file in `pki/` (none for the transfer signer, published raw).
    pub certificate: Option<String>,
    /// When it was generated.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it entered the trust bundle (none while pending).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// From when it signs.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub active_from: Option<OffsetDateTime>,
    /// From when it no longer signs.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    /// When it was declared compromised (nothing it signed from then on is trusted).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub compromised_since: Option<OffsetDateTime>,
    /// Why it was retired or declared compromised.
    #[serde(default)]
    pub reason: Option<String>,
}

impl KeyEntry {
    /// Its state at `now`.
    pub fn state(&self, now: OffsetDateTime) -> KeyState {
        let Some(_) = self.published_at else {
            return KeyState::Pending;
        };
        match (self.active_from, self.retired_at) {
            // A compromised key stays listed so verifiers keep refusing what it signs later.
            (_, Some(retired))
                if self.compromised_since.is_none() && now >= retired + RETENTION =>
            {
                KeyState::Removed
            }
            (_, Some(retired)) if now >= retired => KeyState::Retired,
            (Some(from), _) if now >= from => KeyState::Active,
            _ => KeyState::Published,
        }
    }

    /// Whether it signed at some instant from `since` to `until` (widened to whole seconds,
    /// as the registry records instants): what a thief holding it from `since` may have
    /// signed in its name.
    pub fn in_use_between(&self, since: OffsetDateTime, until: OffsetDateTime) -> bool {
        let (since, until) = (second_down(since), second_up(until));
        self.active_from.is_some_and(|from| from <= until)
            && self.retired_at.is_none_or(|retired| retired > since)
    }

    /// The window the trust bundle publishes for it.
    pub fn window(&self, now: OffsetDateTime) -> KeyWindow {
        KeyWindow {
            role: self.role.name().to_owned(),
            key_id: self.key_id.clone(),
            state: self.state(now).name().to_owned(),
            active_from: self.active_from,
            retired_at: self.retired_at,
            compromised_since: self.compromised_since,
        }
    }
}

/// Why a registry operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The file could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// No key with that id.
    #[error("no key {0} in the registry (`issuer keys list` shows them)")]
    UnknownKey(String),
    /// The operation would leave the registry inconsistent.
    #[error("{0}")]
    Refused(String),
}

/// The registry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRegistry {
    /// Raised by every change; published as the trust bundle's `sequence`.
    pub sequence: u64,
    /// Every key, oldest first.
    pub keys: Vec<KeyEntry>,
}

impl KeyRegistry {
    /// Reads `pki/keys.json`; `None` if the home has none yet.
    pub fn read(pki_dir: &Path) -> Result<Option<Self>, LifecycleError> {
        let path = pki_dir.join(REGISTRY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(file_error(&path, e)),
        };
        let registry: Self = serde_json::from_slice(&bytes).map_err(|e| file_error(&path, e))?;
        registry.check().map_err(|e| file_error(&path, e))?;
        Ok(Some(registry))
    }

    /// Writes `pki/keys.json` atomically.
    pub fn write(&self, pki_dir: &Path) -> Result<(), LifecycleError> {
        let path = pki_dir.join(REGISTRY_FILE);
        let temp = pki_dir.join(format!(".{REGISTRY_FILE}.{}.tmp", std::process::id()));
        let json = serde_json::to_vec_pretty(self).map_err(|e| file_error(&path, e))?;
        let written = std::fs::write(&temp, json)
            .and_then(|()| std::fs::File::open(&temp)?.sync_all())
            .and_then(|()| std::fs::rename(&temp, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(file_error(&path, e));
        }
        Ok(())
    }

    /// Structural rules a registry read from disk must keep.
    fn check(&self) -> Result<(), String> {
        for (i, key) in self.keys.iter().enumerate() {
            if self.keys[..i]
                .iter()
                .any(|other| other.key_id == key.key_id)
            {
                return Err(format!("key {} is listed twice", key.key_id));
            }
            if let (Some(from), Some(retired)) = (key.active_from, key.retired_at)
                && retired < from
            {
                return Err(format!("key {} is retired before it is active", key.key_id));
            }
        }
        Ok(())
    }

    /// The key with id `key_id`.
    pub fn get(&self, key_id: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.key_id == key_id)
    }

    /// The role's signing key at `now`.
    pub fn active(&self, role: Role, now: OffsetDateTime) -> Option<&KeyEntry> {
        self.keys
            .iter()
            .filter(|k| k.role == role && k.state(now) == KeyState::Active)
            .max_by_key(|k| k.active_from)
    }

    /// The earliest instant after `now` at which some role's signing key changes: whoever
    /// loaded the active keys at `now` must load them again by then.
    pub fn next_change(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.keys
            .iter()
            .flat_map(|k| [k.active_from, k.retired_at])
            .flatten()
            .filter(|t| *t > now)
            .min()
    }

    /// The windows of every key in the bundle at `now` (neither pending nor removed).
    pub fn windows(&self, now: OffsetDateTime) -> Vec<KeyWindow> {
        self.keys
            .iter()
            .filter(|k| !matches!(k.state(now), KeyState::Pending | KeyState::Removed))
            .map(|k| k.window(now))
            .collect()
    }

    /// The certificate files of every key in the bundle at `now`, with their roles.
    pub fn published_certificates(&self, now: OffsetDateTime) -> Vec<(Role, &str)> {
        self.keys
            .iter()
            .filter(|k| !matches!(k.state(now), KeyState::Pending | KeyState::Removed))
            .filter_map(|k| Some((k.role, k.certificate.as_deref()?)))
            .collect()
    }

    /// Records a key already in use (a home made before the registry): published and active
    /// from `since`.
    pub fn adopt(
        &mut self,
        role: Role,
        key_id: &str,
        certificate: Option<&str>,
        since: OffsetDateTime,
    ) {
        let since = second_down(since);
        self.keys.push(KeyEntry {
            role,
            key_id: key_id.to_owned(),
            certificate: certificate.map(str::to_owned),
            created_at: since,
            published_at: Some(since),
            active_from: Some(since),
            retired_at: None,
            compromised_since: None,
            reason: None,
        });
    }

    /// Publishes a new key for `role` at `now`, signing from `active_from`; the role's
    /// current and already published keys retire at that instant.
    pub fn publish(
        &mut self,
        role: Role,
        key_id: &str,
        certificate: Option<&str>,
        now: OffsetDateTime,
        active_from: OffsetDateTime,
    ) -> Result<(), LifecycleError> {
        if self.get(key_id).is_some() {
            return Err(LifecycleError::Refused(format!(
                "key {key_id} is already in the registry"
            )));
        }
        if active_from < now {
            return Err(LifecycleError::Refused(
                "a key cannot become active before it is published".into(),
            ));
        }
        let active_from = second_up(active_from);
        for key in self.keys.iter_mut().filter(|k| k.role == role) {
            let open = matches!(key.state(now), KeyState::Active | KeyState::Published);
            if open && key.retired_at.is_none_or(|r| r > active_from) {
                key.retired_at = Some(active_from.max(key.active_from.unwrap_or(active_from)));
                key.reason = Some("rotated".into());
            }
        }
        self.keys.push(KeyEntry {
            role,
            key_id: key_id.to_owned(),
            certificate: certificate.map(str::to_owned),
            created_at: now,
            published_at: Some(now),
            active_from: Some(active_from),
            retired_at: None,
            compromised_since: None,
            reason: None,
        });
        self.sequence += 1;
        Ok(())
    }

    /// Retires `key_id` at `now`. The role's only signing key cannot be retired: rotate first.
    pub fn retire(
        &mut self,
        key_id: &str,
        now: OffsetDateTime,
        reason: &str,
    ) -> Result<Role, LifecycleError> {
        let key = self
            .get(key_id)
            .ok_or_else(|| LifecycleError::UnknownKey(key_id.to_owned()))?;
        let role = key.role;
        match key.state(now) {
            KeyState::Retired | KeyState::Removed => {
                return Err(LifecycleError::Refused(format!(
                    "key {key_id} is already retired"
                )));
            }
            KeyState::Active => {
                let successor = self.keys.iter().any(|k| {
                    k.role == role && k.key_id != key_id && k.state(now) == KeyState::Active
                });
                if !successor {
                    return Err(LifecycleError::Refused(format!(
                        "key {key_id} is the only signing key of {role}: rotate first \
                         (`issuer keys rotate {role}`), then retire it"
                    )));
                }
            }
            KeyState::Pending | KeyState::Published => {}
        }
        if let Some(key) = self.keys.iter_mut().find(|k| k.key_id == key_id) {
            key.retired_at = Some(second_up(now).max(key.active_from.unwrap_or(now)));
            key.reason = Some(reason.to_owned());
        }
        self.sequence += 1;
        Ok(role)
    }

    /// Declares the role's key that was signing at `since` (and any later one up to now)
    /// compromised as of `since`: the caller then rotates, re-issues and publishes.
    pub fn compromise(
        &mut self,
        role: Role,
        since: OffsetDateTime,
        now: OffsetDateTime,
        reason: &str,
    ) -> Result<Vec<String>, LifecycleError> {
        let of_role: Vec<String> = self
            .keys
            .iter()
            .filter(|k| k.role == role)
            .map(|k| k.key_id.clone())
            .collect();
        let marked = self.compromise_keys(&of_role, since, now, reason);
        if marked.is_empty() {
            return Err(LifecycleError::Refused(format!(
                "no key of {role} was in use at or after {}",
                second_down(since)
            )));
        }
        Ok(marked)
    }

    /// Declares those of `key_ids` in use at or after `since` compromised as of `since` (or
    /// their activation, if later), retired by `now` at the latest; returns the ones marked.
    pub fn compromise_keys(
        &mut self,
        key_ids: &[String],
        since: OffsetDateTime,
        now: OffsetDateTime,
        reason: &str,
    ) -> Vec<String> {
        let (since, now) = (second_down(since), second_up(now));
        let mut marked = Vec::new();
        for key in self.keys.iter_mut().filter(|k| key_ids.contains(&k.key_id)) {
            if key.in_use_between(since, now) && key.compromised_since.is_none() {
                key.compromised_since = Some(since.max(key.active_from.unwrap_or(since)));
                key.retired_at = Some(key.retired_at.map_or(now, |r| r.min(now)));
                key.reason = Some(reason.to_owned());
                marked.push(key.key_id.clone());
            }
        }
        if !marked.is_empty() {
            self.sequence += 1;
        }
        marked
    }
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> LifecycleError {
    LifecycleError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
    }

    fn registry() -> KeyRegistry {
        let mut r = KeyRegistry::default();
        r.adopt(Role::TokenSigner, "aa", Some("token-signer.pem"), t(0));
        r.adopt(
            Role::DocumentSigner,
            "dd",
            Some("document-signer.pem"),
            t(0),
        );
        r
    }

    #[test]
    fn a_rotation_publishes_then_hands_over_at_one_instant() {
        let mut r = registry();
        r.publish(
            Role::TokenSigner,
            "bb",
            Some("token-signer-bb.pem"),
            t(10),
            t(70),
        )
        .expect("publish");
        assert_eq!(r.sequence, 1);
        // Published: in the bundle, the old key still signs.
        assert_eq!(
            r.get("bb").map(|k| k.state(t(30))),
            Some(KeyState::Published)
        );
        assert_eq!(
            r.active(Role::TokenSigner, t(30))
                .map(|k| k.key_id.as_str()),
            Some("aa")
        );
        assert_eq!(r.windows(t(30)).len(), 3);
        assert_eq!(r.next_change(t(30)), Some(t(70)));
        // At activation: exactly one signer, the old one retired (still listed).
        assert_eq!(
            r.active(Role::TokenSigner, t(70))
                .map(|k| k.key_id.as_str()),
            Some("bb")
        );
        assert_eq!(r.get("aa").map(|k| k.state(t(70))), Some(KeyState::Retired));
        assert_eq!(r.published_certificates(t(70)).len(), 3);
        // After the retention, the retired key leaves the bundle.
        let later = t(70) + RETENTION;
        assert_eq!(r.get("aa").map(|k| k.state(later)), Some(KeyState::Removed));
        assert_eq!(r.windows(later).len(), 2);
        assert!(
            r.publish(Role::TokenSigner, "bb", None, t(80), t(80))
                .is_err(),
            "same id twice"
        );
        assert!(
            r.publish(Role::TokenSigner, "cc", None, t(80), t(79))
                .is_err(),
            "active before published"
        );
    }

    #[test]
    fn recorded_instants_are_whole_seconds_so_a_first_token_is_inside_its_window() {
        let mut r = registry();
        let half = t(10) + Duration::milliseconds(400);
        r.publish(Role::TokenSigner, "bb", None, half, half)
            .expect("publish");
        let new = r.get("bb").expect("new key").clone();
        assert_eq!(new.active_from, Some(t(10) + Duration::SECOND));
        assert_eq!(r.get("aa").and_then(|k| k.retired_at), new.active_from);
        // A token signed at the hand-over instant, dated in whole seconds, is the new key's;
        // one dated a second earlier is the old key's.
        let iat = new.active_from.expect("active");
        assert!(new.window(iat).judge(iat).is_ok());
        let old = r.get("aa").expect("old");
        assert!(old.window(iat).judge(iat - Duration::SECOND).is_ok());
        assert!(old.window(iat).judge(iat).is_err());
        let marked = r
            .compromise(
                Role::TokenSigner,
                half + Duration::SECOND,
                half + Duration::minutes(1),
                "x",
            )
            .expect("compromise");
        assert_eq!(marked, vec!["bb".to_owned()]);
        assert_eq!(
            r.get("bb").and_then(|k| k.compromised_since),
            new.active_from
        );
    }

    #[test]
    fn the_only_signing_key_cannot_be_retired() {
        let mut r = registry();
        let err = r.retire("aa", t(5), "test").expect_err("only key");
        assert!(err.to_string().contains("rotate first"), "{err}");
        assert!(matches!(
            r.retire("zz", t(5), "x"),
            Err(LifecycleError::UnknownKey(_))
        ));
        r.publish(Role::TokenSigner, "bb", None, t(10), t(10))
            .expect("publish");
        assert!(
            r.retire("aa", t(11), "again").is_err(),
            "already retired by the rotation"
        );
        assert_eq!(r.sequence, 1);
    }

    #[test]
    fn a_compromise_marks_the_keys_used_since_and_stays_listed() {
        let mut r = registry();
        let marked = r
            .compromise(Role::TokenSigner, t(100), t(120), "stolen")
            .expect("marked");
        assert_eq!(marked, vec!["aa".to_owned()]);
        let key = r.get("aa").expect("key");
        assert_eq!(key.compromised_since, Some(t(100)));
        assert_eq!(key.state(t(121)), KeyState::Retired);
        assert_eq!(
            key.state(t(121) + RETENTION * 10),
            KeyState::Retired,
            "never removed"
        );
        assert!(r.active(Role::TokenSigner, t(121)).is_none(), "rotate next");
        assert!(
            r.compromise(Role::TokenSigner, t(100), t(130), "again")
                .is_err()
        );
        assert_eq!(r.sequence, 1);
    }

    #[test]
    fn the_file_round_trips_and_a_doubled_key_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(KeyRegistry::read(dir.path()).expect("read"), None);
        let mut r = registry();
        r.write(dir.path()).expect("write");
        assert_eq!(
            KeyRegistry::read(dir.path()).expect("read"),
            Some(r.clone())
        );
        r.keys.push(r.keys[0].clone());
        r.write(dir.path()).expect("write");
        let err = KeyRegistry::read(dir.path()).expect_err("doubled");
        assert!(err.to_string().contains("twice"), "{err}");
    }
}
