//! `AWSROLE_KEYRING=file`: long-term keys in one encrypted file, for machines with no
//! Secret Service (SSH sessions, tmux started outside the desktop, WSL, containers).
//!
//! The file (`$XDG_DATA_HOME/awsrole/keys.enc`, mode 0600) is
//! `awsrole-keys/1\n` ‖ salt (16 bytes) ‖ nonce (24) ‖ XChaCha20-Poly1305 ciphertext of a
//! JSON map {name: base64 value}, the key derived from a passphrase with Argon2id
//! (64 MiB, 3 passes). A wrong passphrase fails the tag check: a clear error, the file
//! untouched. Every write is a fresh salt and nonce, written whole and renamed into
//! place. No secret is in it in any encoding.
//!
//! The passphrase comes from `AWSROLE_FILE_PASSPHRASE` (automation), else it is asked
//! on the terminal once per process. Temporary credentials stay in the kernel keyring,
//! so the file is opened only when a cold chain needs its long-term keys.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::SecretStore;

const MAGIC: &[u8] = b"awsrole-keys/1\n";
const SALT: usize = 16;
const NONCE: usize = 24;

/// The passphrase, once known in this process.
static PASSPHRASE: Mutex<Option<Zeroizing<String>>> = Mutex::new(None);

pub struct FileStore {
    path: PathBuf,
}

/// Where the file store lives.
pub fn path() -> Result<PathBuf, String> {
    crate::sys::dirs::data_dir()
        .map(|d| d.join("keys.enc"))
        .map_err(|e| e.to_string())
}

impl FileStore {
    pub fn open() -> Result<FileStore, String> {
        Ok(FileStore { path: path()? })
    }

    pub fn exists() -> bool {
        path().is_ok_and(|p| p.is_file())
    }

    /// The passphrase: the variable, the one typed earlier in this process, or asked
    /// (twice when the file is new, so a typo does not lock the keys away).
    fn passphrase(&self, new_file: bool) -> Result<Zeroizing<String>, String> {
        if let Ok(p) = crate::sys::settings::var("AWSROLE_FILE_PASSPHRASE") {
            if !p.is_empty() {
                return Ok(Zeroizing::new(p));
            }
        }
        let mut known = PASSPHRASE
            .lock()
            .map_err(|_| "passphrase lock".to_string())?;
        if let Some(p) = known.as_ref() {
            return Ok(p.clone());
        }
        let shown = self.path.display();
        let ask = |q: &str| {
            crate::sys::tty::ask(q, true).map_err(|e| match e {
                crate::sys::tty::AskError::NoTerminal => format!(
                    "the key file {shown} needs its passphrase, and there is no terminal to ask it on; set AWSROLE_FILE_PASSPHRASE"
                ),
                other => format!("passphrase for {shown}: {other}"),
            })
        };
        let typed = Zeroizing::new(ask(&format!("Passphrase for {shown}: "))?);
        if typed.is_empty() {
            return Err(format!("an empty passphrase cannot protect {shown}"));
        }
        if new_file {
            let again = Zeroizing::new(ask("The same passphrase again: ")?);
            if *again != *typed {
                return Err("the two passphrases differ; nothing was stored".into());
            }
        }
        *known = Some(typed.clone());
        Ok(typed)
    }

    fn key(passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, String> {
        let params =
            argon2::Params::new(64 * 1024, 3, 1, Some(32)).map_err(|e| format!("argon2: {e}"))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
            .map_err(|e| format!("argon2: {e}"))?;
        Ok(key)
    }

    /// The map, decrypted; empty when there is no file yet.
    fn read(&self) -> Result<BTreeMap<String, String>, String> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        let shown = self.path.display();
        let body = bytes
            .strip_prefix(MAGIC)
            .filter(|b| b.len() > SALT + NONCE)
            .ok_or_else(|| format!("{shown} is not an awsrole key file"))?;
        let (salt, rest) = body.split_at(SALT);
        let (nonce, sealed) = rest.split_at(NONCE);
        let key = Self::key(&self.passphrase(false)?, salt)?;
        let plain = XChaCha20Poly1305::new(key.as_ref().into())
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| {
                // Forget a mistyped passphrase, so the next try asks again.
                if let Ok(mut known) = PASSPHRASE.lock() {
                    *known = None;
                }
                format!(
                    "wrong passphrase for {shown} (or the file was altered); nothing was changed"
                )
            })?;
        let plain = Zeroizing::new(plain);
        serde_json::from_slice(&plain).map_err(|e| format!("{shown}: {e}"))
    }

    fn write(&self, map: &BTreeMap<String, String>) -> Result<(), String> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| "no folder for the key file".to_string())?;
        crate::sys::dirs::private_dir(dir).map_err(|e| e.to_string())?;
        let new_file = !self.path.exists();
        let passphrase = self.passphrase(new_file)?;
        let mut salt = [0u8; SALT];
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
        getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
        let key = Self::key(&passphrase, &salt)?;
        let plain = Zeroizing::new(serde_json::to_vec(map).map_err(|e| e.to_string())?);
        let sealed = XChaCha20Poly1305::new(key.as_ref().into())
            .encrypt(XNonce::from_slice(&nonce), plain.as_slice())
            .map_err(|_| "encryption failed".to_string())?;
        let mut out = Vec::with_capacity(MAGIC.len() + SALT + NONCE + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        crate::sys::dirs::replace_private(&self.path, &out)
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl SecretStore for FileStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        if !self.path.exists() {
            return Ok(None);
        }
        match self.read()?.get(name) {
            Some(v) => b64().decode(v).map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }

    fn put(
        &self,
        name: &str,
        value: &[u8],
        _expires: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), String> {
        let mut map = self.read()?;
        map.insert(name.to_string(), b64().encode(value));
        self.write(&map)
    }

    fn delete(&self, name: &str) -> Result<(), String> {
        if !self.path.exists() {
            return Ok(());
        }
        let mut map = self.read()?;
        if map.remove(name).is_some() {
            self.write(&map)?;
        }
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        Ok(self
            .read()?
            .into_keys()
            .filter(|k| k.starts_with(prefix))
            .collect())
    }
}
