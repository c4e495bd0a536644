//! The config file (accounts) and where things live on disk (XDG dirs via `directories`).
//! Never holds a secret: keys come from `secrets`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::ProviderKind;

/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "CRM_NOTES_CONFIG";

/// One configured account, as written under `[accounts.NAME]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(skip)]
    pub name: String,
    pub provider: ProviderKind,
    pub base_url: Option<String>,
    /// Default author of new notes.
    pub author_email: Option<String>,
    /// Peoplevine user name.
    pub username: Option<String>,
    /// Peoplevine company id.
    pub company_id: Option<i64>,
    /// Peoplevine `Region` header.
    pub region: Option<String>,
    /// ActivePlatform reseller id.
    pub reseller_id: Option<toml::Value>,
}

impl AccountConfig {
    /// An account with nothing but its name and provider set.
    pub fn new(name: &str, provider: ProviderKind) -> AccountConfig {
        AccountConfig {
            name: name.to_string(),
            provider,
            base_url: None,
            author_email: None,
            username: None,
            company_id: None,
            region: None,
            reseller_id: None,
        }
    }

    /// The base URL to use: the configured one, else the provider's public API.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref().or(match self.provider {
            ProviderKind::ChartMogul => Some("https://api.chartmogul.com"),
            ProviderKind::Peoplevine => Some("https://api.peoplevine.com"),
            ProviderKind::ActivePlatform => None,
        })
    }
}

/// The accounts, in the order the file lists them (that is the tab order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub path: PathBuf,
    pub accounts: Vec<AccountConfig>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("no config file at {0}")]
    Missing(PathBuf),
    #[error("cannot read {path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("no account named '{name}' in {path} (accounts: {known})")]
    UnknownAccount {
        name: String,
        path: PathBuf,
        known: String,
    },
    #[error("{path} has no accounts: add an [accounts.NAME] table")]
    NoAccounts { path: PathBuf },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    accounts: toml::Table,
}

impl Config {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let body = match std::fs::read_to_string(path) {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::Missing(path.to_path_buf()));
            }
            Err(e) => {
                return Err(ConfigError::Unreadable {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        Config::parse(path, &body)
    }

    pub fn parse(path: &Path, body: &str) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawConfig = toml::from_str(body).map_err(|e| invalid(toml_message(&e, body)))?;
        let mut accounts = Vec::with_capacity(raw.accounts.len());
        for (name, value) in raw.accounts {
            let mut account: AccountConfig = value.try_into().map_err(|e: toml::de::Error| {
                invalid(format!("accounts.{name}: {}", e.message()))
            })?;
            account.name = name;
            validate(&account).map_err(&invalid)?;
            accounts.push(account);
        }
        Ok(Config {
            path: path.to_path_buf(),
            accounts,
        })
    }

    /// The named account, or the first one when no name is given.
    pub fn account(&self, name: Option<&str>) -> Result<&AccountConfig, ConfigError> {
        match name {
            Some(name) => self
                .accounts
                .iter()
                .find(|a| a.name == name)
                .ok_or_else(|| ConfigError::UnknownAccount {
                    name: name.to_string(),
                    path: self.path.clone(),
                    known: self
                        .accounts
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            None => self
                .accounts
                .first()
                .ok_or_else(|| ConfigError::NoAccounts {
                    path: self.path.clone(),
                }),
        }
    }
}

fn validate(account: &AccountConfig) -> Result<(), String> {
    let name = &account.name;
    let missing = |field: &str| {
        format!(
            "accounts.{name}: {} accounts need `{field}`",
            account.provider.display_name()
        )
    };
    match account.provider {
        ProviderKind::ChartMogul => {}
        ProviderKind::Peoplevine => {
            if account.username.is_none() {
                return Err(missing("username"));
            }
            if account.company_id.is_none() {
                return Err(missing("company_id"));
            }
        }
        ProviderKind::ActivePlatform => {
            if account.base_url.is_none() {
                return Err(missing("base_url"));
            }
            if account.reseller_id.is_none() {
                return Err(missing("reseller_id"));
            }
        }
    }
    Ok(())
}

/// toml's errors span several lines with a source excerpt; we want one line with its position.
fn toml_message(e: &toml::de::Error, body: &str) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = body
                .get(..span.start)
                .map_or(1, |before| before.matches('\n').count() + 1);
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// `--config PATH`, else `$CRM_NOTES_CONFIG`, else `<config dir>/crm-notes/config.toml`.
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    if let Some(path) = flag {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    directories::BaseDirs::new()
        .map(|dirs| dirs.config_dir().join("crm-notes").join("config.toml"))
        .unwrap_or_else(|| PathBuf::from("crm-notes.toml"))
}

/// Where the log file goes: the state directory (XDG_STATE_HOME on Linux), else local data.
pub fn state_dir() -> PathBuf {
    directories::BaseDirs::new()
        .map(|dirs| {
            dirs.state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .join("crm-notes")
        })
        .unwrap_or_else(|| std::env::temp_dir().join("crm-notes"))
}

/// Where the local store (drafts, outbox, cache) lives: `$CRM_NOTES_DATA_DIR`, else the
/// platform's data directory.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRM_NOTES_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::BaseDirs::new()
        .map(|dirs| dirs.data_local_dir().join("crm-notes"))
        .unwrap_or_else(|| std::env::temp_dir().join("crm-notes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/x/config.toml"), body)
    }

    #[test]
    fn accounts_keep_the_order_of_the_file() {
        let config = parse(
            r#"
            [accounts.zeta]
            provider = "chartmogul"
            [accounts.alpha]
            provider = "chartmogul"
            base_url = "http://127.0.0.1:9"
            author_email = "sara@example.com"
            "#,
        )
        .unwrap();
        let names: Vec<_> = config.accounts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(
            config.accounts[0].base_url(),
            Some("https://api.chartmogul.com")
        );
        assert_eq!(config.accounts[1].base_url(), Some("http://127.0.0.1:9"));
        assert_eq!(config.account(None).unwrap().name, "zeta");
        assert_eq!(config.account(Some("alpha")).unwrap().name, "alpha");
    }

    #[test]
    fn the_design_example_config_is_accepted() {
        let config = parse(
            r#"
            [accounts.acme]
            provider = "chartmogul"
            base_url = "https://api.chartmogul.com"
            author_email = "sara@example.com"
            [accounts.club]
            provider = "peoplevine"
            base_url = "https://api.peoplevine.com"
            username = "sara@example.com"
            company_id = 1234
            region = "uk"
            [accounts.panel]
            provider = "activeplatform"
            base_url = "https://panel.example.com"
            reseller_id = 1
            "#,
        )
        .unwrap();
        assert_eq!(config.accounts.len(), 3);
        assert_eq!(config.accounts[1].provider, ProviderKind::Peoplevine);
        assert_eq!(config.accounts[1].company_id, Some(1234));
    }

    #[test]
    fn errors_are_one_line_and_name_the_problem() {
        let err = parse("[accounts.acme]\nprovider = \"salesforce\"\n").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(
            text.contains("acme") && text.contains("salesforce"),
            "{text}"
        );

        let err = parse("[accounts.acme]\nprovider = \"chartmogul\"\napi_key = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("api_key") && !err.contains('\n'), "{err}");

        let err = parse("[accounts.acme\n").unwrap_err().to_string();
        assert!(err.contains("line 1") && !err.contains('\n'), "{err}");

        let err = parse("[accounts.club]\nprovider = \"peoplevine\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("username"), "{err}");
    }

    #[test]
    fn an_unknown_account_lists_the_known_ones() {
        let config = parse("[accounts.acme]\nprovider = \"chartmogul\"\n").unwrap();
        let err = config.account(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("'nope'") && err.contains("acme"), "{err}");
        let empty = parse("").unwrap();
        assert!(matches!(
            empty.account(None),
            Err(ConfigError::NoAccounts { .. })
        ));
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        let path = config_path(Some(Path::new("/tmp/c.toml")));
        assert_eq!(path, PathBuf::from("/tmp/c.toml"));
    }
}
