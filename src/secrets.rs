//! API keys and passwords: `CRM_NOTES_API_KEY_<NAME>` first, then the OS keyring (service
//! `crm-notes`, user = account name). A secret is never written to a file, logged or printed:
//! `Secret` has no Display and a redacting Debug.
//!
//! The keyring is reached through keyring-core's default store. In the app that is the
//! platform store (Secret Service, Keychain, Credential Manager), set up on first use; tests
//! install keyring-core's in-memory mock store instead and never touch the real one. Keyring
//! calls may block on D-Bus, so they must be made outside async code.

use std::fmt;

/// Keyring service name under which every account's secret is stored.
pub const SERVICE: &str = "crm-notes";

/// A secret value. Deliberately without `Display`, so it cannot end up in a message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it: building an HTTP request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Env,
    Keyring,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SecretError {
    #[error("no API key for account '{account}': run 'crm-notes auth set {account}' or set {var}")]
    Missing { account: String, var: String },
    #[error("no OS keyring is available here ({detail}); set {var} in the environment instead")]
    NoKeyring { var: String, detail: String },
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
}

/// `CRM_NOTES_API_KEY_<NAME>`: NAME upper-cased, every character that is not A–Z or 0–9 as `_`.
pub fn env_var_name(account: &str) -> String {
    let suffix: String = account
        .chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("CRM_NOTES_API_KEY_{suffix}")
}

/// The account's secret: the environment variable wins, else the keyring.
pub fn lookup(account: &str) -> Result<(Secret, Source), SecretError> {
    let var = env_var_name(account);
    if let Some(value) = std::env::var(&var).ok().filter(|v| !v.trim().is_empty()) {
        return Ok((Secret(value.trim().to_string()), Source::Env));
    }
    let entry = match entry(account) {
        Ok(entry) => entry,
        // Without a keyring the env variable is the only way; say both.
        Err(SecretError::NoKeyring { .. }) => {
            return Err(SecretError::Missing {
                account: account.to_string(),
                var,
            });
        }
        Err(e) => return Err(e),
    };
    match entry.get_password() {
        Ok(value) => Ok((Secret(value), Source::Keyring)),
        Err(keyring_core::Error::NoEntry) => Err(SecretError::Missing {
            account: account.to_string(),
            var,
        }),
        Err(e) => Err(keyring_error(account, e)),
    }
}

/// Stores the secret in the keyring (never in a file).
pub fn store(account: &str, secret: &Secret) -> Result<(), SecretError> {
    entry(account)?
        .set_password(secret.expose())
        .map_err(|e| keyring_error(account, e))
}

/// Removes the stored secret; `Ok(false)` when there was none.
pub fn remove(account: &str) -> Result<bool, SecretError> {
    match entry(account)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring_core::Error::NoEntry) => Ok(false),
        Err(e) => Err(keyring_error(account, e)),
    }
}

fn entry(account: &str) -> Result<keyring_core::Entry, SecretError> {
    ensure_store(account)?;
    keyring_core::Entry::new(SERVICE, account).map_err(|e| keyring_error(account, e))
}

/// Sets up the platform store unless one (e.g. the tests' mock) is already in place.
fn ensure_store(account: &str) -> Result<(), SecretError> {
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    match keyring::Entry::store_status() {
        Ok(()) => Ok(()),
        Err(e) => Err(SecretError::NoKeyring {
            var: env_var_name(account),
            detail: one_line(&e.to_string()),
        }),
    }
}

fn keyring_error(account: &str, e: keyring_core::Error) -> SecretError {
    match e {
        keyring_core::Error::NoDefaultStore | keyring_core::Error::NoStorageAccess(_) => {
            SecretError::NoKeyring {
                var: env_var_name(account),
                detail: one_line(&e.to_string()),
            }
        }
        other => SecretError::Keyring(one_line(&other.to_string())),
    }
}

fn one_line(s: &str) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut line = crate::text::sanitize_line(&line);
    if line.len() > 160 {
        let cut = (0..=160)
            .rev()
            .find(|i| line.is_char_boundary(*i))
            .unwrap_or(0);
        line.truncate(cut);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Once;

    static MOCK: Once = Once::new();

    fn use_mock_store() {
        MOCK.call_once(|| {
            keyring_core::set_default_store(keyring_core::mock::Store::new().expect("mock store"));
        });
    }

    #[test]
    fn env_var_names_upper_case_and_replace_other_characters() {
        assert_eq!(env_var_name("acme"), "CRM_NOTES_API_KEY_ACME");
        assert_eq!(
            env_var_name("my-club.eu 2"),
            "CRM_NOTES_API_KEY_MY_CLUB_EU_2"
        );
        assert_eq!(env_var_name("café"), "CRM_NOTES_API_KEY_CAF_");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret::new("sk_live_very_secret");
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("sk_live"), "{shown}");
    }

    #[test]
    fn a_stored_key_is_found_in_the_keyring_then_removed() {
        use_mock_store();
        let account = "secrets-test-roundtrip";
        assert!(matches!(lookup(account), Err(SecretError::Missing { .. })));
        store(account, &Secret::new("k-123")).unwrap();
        let (secret, source) = lookup(account).unwrap();
        assert_eq!(secret.expose(), "k-123");
        assert_eq!(source, Source::Keyring);
        assert!(remove(account).unwrap());
        assert!(!remove(account).unwrap());
        assert!(matches!(lookup(account), Err(SecretError::Missing { .. })));
    }

    #[test]
    fn the_missing_key_message_says_how_to_fix_it() {
        use_mock_store();
        let err = lookup("secrets-test-missing").unwrap_err().to_string();
        assert_eq!(
            err,
            "no API key for account 'secrets-test-missing': run 'crm-notes auth set \
             secrets-test-missing' or set CRM_NOTES_API_KEY_SECRETS_TEST_MISSING"
        );
    }
}
