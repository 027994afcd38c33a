//! Admin tokens: `CITYPEERS_ADMIN_TOKEN`, or tokens made with `citypeers token create NAME`
//! (shown once, stored as SHA-256, compared in constant time).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{App, AppError, now};
use crate::store::StoredToken;

/// Who made a change, as the audit trail names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
}

impl Actor {
    pub fn named(name: &str) -> Actor {
        Actor { name: name.to_string() }
    }
}

/// A token as listed (never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub name: String,
    pub created_at: String,
}

/// The actor name used for `CITYPEERS_ADMIN_TOKEN`.
pub const ENVIRONMENT_TOKEN_ACTOR: &str = "admin";
const TOKEN_PREFIX: &str = "cpt_";

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn valid_token_name(name: &str) -> Result<(), AppError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if valid {
        Ok(())
    } else {
        Err(AppError::bad_parameter(
            "name",
            "use 1–64 letters, digits, '-', '_', '.' or '@'",
        ))
    }
}

impl App {
    /// Creates a token and returns its secret, which is not stored and cannot be shown again.
    pub fn create_token(&self, name: &str) -> Result<String, AppError> {
        valid_token_name(name)?;
        if self.store().tokens()?.iter().any(|token| token.name == name) {
            return Err(AppError::Conflict(format!(
                "a token named '{name}' exists; revoke it first"
            )));
        }
        let mut secret_bytes = [0u8; 32];
        getrandom::fill(&mut secret_bytes).map_err(|error| AppError::Internal(format!("no randomness: {error}")))?;
        let secret: String = TOKEN_PREFIX
            .chars()
            .chain(
                secret_bytes
                    .iter()
                    .flat_map(|byte| format!("{byte:02x}").chars().collect::<Vec<_>>()),
            )
            .collect();
        self.store().put_token(&StoredToken {
            name: name.to_string(),
            sha256_hex: sha256_hex(&secret),
            created_at: crate::wire::format_time(now()),
        })?;
        Ok(secret)
    }

    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, AppError> {
        let mut tokens: Vec<TokenInfo> = self
            .store()
            .tokens()?
            .into_iter()
            .map(|token| TokenInfo {
                name: token.name,
                created_at: token.created_at,
            })
            .collect();
        tokens.sort_by(|left, right| left.name.cmp(&right.name));
        Ok(tokens)
    }

    pub fn revoke_token(&self, name: &str) -> Result<(), AppError> {
        if self.store().remove_token(name)? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("no token named '{name}'")))
        }
    }

    /// Counts a failed admin login from `client` where several nodes share the store (the
    /// count is the cluster's); `None` where this process counts on its own.
    pub fn note_failed_login(&self, client: std::net::IpAddr) -> Result<Option<crate::store::FailedLogins>, AppError> {
        Ok(self.store().note_failed_login(&client.to_string())?)
    }

    /// The actor a bearer token stands for, or `None` when it is not valid.
    pub fn authenticate(&self, presented: &str) -> Result<Option<Actor>, AppError> {
        let mut actor = None;
        if let Some(expected) = &self.inner.config.admin_token {
            let expected_hash = Sha256::digest(expected.as_bytes());
            let presented_hash = Sha256::digest(presented.as_bytes());
            if bool::from(expected_hash.ct_eq(&presented_hash)) && !expected.is_empty() {
                actor = Some(Actor::named(ENVIRONMENT_TOKEN_ACTOR));
            }
        }
        let presented_hash = sha256_hex(presented);
        for token in self.store().tokens()? {
            // Compare every stored hash, in constant time, whatever matched before.
            if bool::from(token.sha256_hex.as_bytes().ct_eq(presented_hash.as_bytes())) && actor.is_none() {
                actor = Some(Actor {
                    name: token.name.clone(),
                });
            }
        }
        Ok(actor)
    }
}
