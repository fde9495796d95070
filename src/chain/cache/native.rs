//! macOS Keychain and Windows Credential Manager through keyring-core. Neither can
//! list entries, so an index entry keeps the names. Values are stored as bytes: Windows
//! limits a blob to 2,560 bytes, and bytes are half the size of UTF-16 text.

use chrono::{DateTime, Utc};
use keyring_core::{Entry, Error as KError};

use super::SecretStore;

const SERVICE: &str = "awsrole";
const INDEX: &str = "awsrole:index";

pub fn open() -> Option<Box<dyn SecretStore>> {
    #[cfg(target_os = "macos")]
    let store = apple_native_keyring_store::keychain::Store::new();
    #[cfg(target_os = "windows")]
    let store = windows_native_keyring_store::store::Store::new();
    match store {
        Ok(store) => {
            keyring_core::set_default_store(store);
            Some(Box::new(Native))
        }
        Err(e) => {
            super::warn(&format!("no OS keyring ({e})"));
            None
        }
    }
}

struct Native;

fn entry(name: &str) -> Result<Entry, String> {
    Entry::new(SERVICE, name).map_err(|e| e.to_string())
}

fn read_index() -> Vec<String> {
    entry(INDEX)
        .and_then(|e| e.get_secret().map_err(|e| e.to_string()))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_index(names: &[String]) -> Result<(), String> {
    let bytes = serde_json::to_vec(names).map_err(|e| e.to_string())?;
    entry(INDEX)?.set_secret(&bytes).map_err(|e| e.to_string())
}

impl SecretStore for Native {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match entry(name)?.get_secret() {
            Ok(b) => Ok(Some(b)),
            Err(KError::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn put(&self, name: &str, value: &[u8], _expires: Option<DateTime<Utc>>) -> Result<(), String> {
        entry(name)?.set_secret(value).map_err(|e| e.to_string())?;
        let mut names = read_index();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
            write_index(&names)?;
        }
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), String> {
        match entry(name)?.delete_credential() {
            Ok(()) | Err(KError::NoEntry) => {}
            Err(e) => return Err(e.to_string()),
        }
        let names: Vec<String> = read_index().into_iter().filter(|n| n != name).collect();
        write_index(&names)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        Ok(read_index()
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .collect())
    }
}
