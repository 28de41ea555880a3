//! The one place a connection profile, its secrets and the embedded sandbox become a client;
//! what differs per provider is asked of its [`KindSpec`](super::kinds::KindSpec).

use std::collections::HashMap;

use crate::config::Connection;
use crate::providers::http::RetryPolicy;
use crate::secret::Secret;
use crate::vault::Vault;

use super::client::{ActiveClient, ClientProblem, ConnectInput, SandboxStatus, SecretInput};
use super::kinds;

/// What resolving a connection needs besides the connection itself.
pub struct Resolver<'a> {
    /// The session's secrets, by vault account (`"{id}/{field}"`).
    pub secrets: &'a HashMap<String, Secret>,
    /// The keychain is still being read: no client yet.
    pub secrets_loading: bool,
    pub sandbox: SandboxStatus<'a>,
    /// How the clients retry (and how a retry is reported and cancelled).
    pub retry: RetryPolicy,
}

/// Turns a connection into a client. `overrides` are secrets typed into a form (a connection
/// test before saving); empty ones fall back to what is stored.
pub fn resolve(
    conn: &Connection,
    overrides: &[SecretInput],
    r: &Resolver<'_>,
) -> Result<ActiveClient, ClientProblem> {
    if r.secrets_loading {
        return Err(ClientProblem::LoadingSecrets);
    }
    let spec = kinds::spec(&conn.kind);
    let info = if conn.embedded_sandbox {
        match r.sandbox {
            SandboxStatus::Running(info) => Some(info),
            SandboxStatus::Failed(e) => return Err(ClientProblem::SandboxFailed(e.to_owned())),
            SandboxStatus::Off | SandboxStatus::Starting => {
                return Err(ClientProblem::StartingSandbox);
            }
        }
    } else {
        None
    };
    let secret = |field: &'static str, label: &'static str| -> Result<Secret, ClientProblem> {
        if let Some((_, s)) = overrides.iter().find(|(f, s)| *f == field && !s.is_empty()) {
            return Ok(s.clone());
        }
        if let Some(s) = r.secrets.get(&Vault::account(&conn.id, field)) {
            return Ok(s.clone());
        }
        if let Some(s) = info.and_then(|info| spec.sandbox_secret(&conn.kind, info, field)) {
            return Ok(Secret::new(s));
        }
        Err(ClientProblem::MissingSecret(label))
    };
    // A credential goes only where it was made for: never a sandbox's to another loopback port.
    let running = match r.sandbox {
        SandboxStatus::Running(info) => Some(info),
        _ => None,
    };
    let credentials: Vec<Secret> = spec
        .secret_fields()
        .into_iter()
        .filter_map(|(field, label)| secret(field, label).ok())
        .collect();
    crate::config::check_credential_destination(conn, &credentials, running)
        .map_err(|e| ClientProblem::Invalid(crate::providers::ApiError::invalid_config(e)))?;
    spec.connect(&ConnectInput {
        connection: conn,
        sandbox: info,
        retry: r.retry.clone(),
        secret: &secret,
    })
}
