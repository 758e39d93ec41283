//! Signing applicants in through the production identity provider (OpenID Connect): the
//! authorization-code flow with PKCE, for the JSON API and for the portal alike. Each returns
//! to its own registered callback URL; the flow and its checks are the same.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{CaseError, Services};
use crate::identity::oidc::{PENDING_LOGIN_LIFETIME, PendingLogin};

/// Where the identity provider sends the browser back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callback {
    /// The API's callback (`redirect_uri`), which answers a bearer token.
    Api,
    /// The portal's (`portal_redirect_uri`), which opens a portal session.
    Portal,
}

/// What the identity provider sent back to a callback.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ProviderAnswer {
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// The state the sign-in began with.
    #[serde(default)]
    pub state: Option<String>,
    /// The provider's refusal.
    #[serde(default)]
    pub error: Option<String>,
}

impl Services {
    /// The callback URL of `to`, or "not found" when that sign-in is not configured.
    fn redirect_uri(&self, to: Callback) -> Result<String, CaseError> {
        let provider = self
            .oidc
            .as_ref()
            .ok_or_else(|| CaseError::NotFound("no OIDC identity provider is configured".into()))?;
        match to {
            Callback::Api => Ok(self
                .bureau
                .config()
                .oidc
                .as_ref()
                .map(|c| c.redirect_uri.clone())
                .unwrap_or_default()),
            Callback::Portal => provider
                .portal_redirect_uri()
                .map(str::to_owned)
                .ok_or_else(|| {
                    CaseError::NotFound("the portal has no OIDC callback configured".into())
                }),
        }
    }

    /// Starts a sign-in: the pending login is kept in the registry under its `state`;
    /// answers the provider's authorization URL and the state.
    pub async fn oidc_begin(&self, to: Callback) -> Result<(String, String), CaseError> {
        let redirect_uri = self.redirect_uri(to)?;
        let provider = self
            .oidc
            .as_ref()
            .ok_or_else(|| CaseError::NotFound("no OIDC identity provider is configured".into()))?;
        let now = OffsetDateTime::now_utc();
        let (url, pending) = provider.start_to(now, &redirect_uri);
        self.store()
            .put_oidc_login(
                &pending.state,
                &crate::store::accounts::OidcLogin {
                    nonce: pending.nonce.clone(),
                    code_verifier: pending.code_verifier.clone(),
                    created_at: crate::store::stored_instant(pending.created_at),
                },
                now - PENDING_LOGIN_LIFETIME,
            )
            .await?;
        Ok((url, pending.state))
    }

    /// Finishes a sign-in (each `state` is good once): exchanges the code, verifies the ID
    /// token, and answers the applicant's id, created on first sign-in. A document the
    /// provider verified but the bureau cannot read refuses the sign-in: the holder check
    /// must never pass by default.
    pub async fn oidc_finish(
        self: &Arc<Self>,
        to: Callback,
        answer: ProviderAnswer,
    ) -> Result<String, CaseError> {
        let redirect_uri = self.redirect_uri(to)?;
        if let Some(error) = answer.error {
            if let Some(state) = &answer.state {
                self.store().take_oidc_login(state).await?;
            }
            let error: String = error
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(64)
                .collect();
            return Err(CaseError::Unauthenticated(format!(
                "the identity provider refused: {error}"
            )));
        }
        let (Some(code), Some(returned_state)) = (answer.code, answer.state) else {
            return Err(CaseError::Malformed("code and state are required".into()));
        };
        let login = self
            .store()
            .take_oidc_login(&returned_state)
            .await?
            .ok_or_else(|| CaseError::Unauthenticated("unknown or used sign-in state".into()))?;
        let pending = PendingLogin {
            state: returned_state.clone(),
            nonce: login.nonce,
            code_verifier: login.code_verifier,
            created_at: crate::store::parse_time(&login.created_at)?,
        };
        let worker = Arc::clone(self);
        let identity = tokio::task::spawn_blocking(move || {
            let provider = worker
                .oidc
                .as_ref()
                .ok_or(crate::identity::oidc::OidcError::Expired)?;
            provider.finish_to(
                &pending,
                &code,
                &returned_state,
                OffsetDateTime::now_utc(),
                &redirect_uri,
            )
        })
        .await
        .map_err(|e| CaseError::internal(&e))?
        .map_err(|e| CaseError::Unauthenticated(format!("sign-in failed: {e}")))?;
        let verified = identity
            .document
            .as_ref()
            .map(|d| d.parse("document").map(|d| d.registry_key()))
            .transpose()
            .map_err(|e| {
                CaseError::Unauthenticated(format!(
                    "sign-in failed: the identity provider's document claim is not usable ({e})"
                ))
            })?;
        Ok(self
            .store()
            .applicant_for(
                &identity.issuer,
                &identity.subject,
                identity.name.as_deref(),
                verified.as_deref(),
                OffsetDateTime::now_utc(),
            )
            .await?)
    }
}
