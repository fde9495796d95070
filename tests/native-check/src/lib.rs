//! The surroundings src/cache/native.rs expects from src/cache/store.rs.

use chrono::{DateTime, Utc};

pub trait SecretStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String>;
    fn put(&self, name: &str, value: &[u8], expires: Option<DateTime<Utc>>) -> Result<(), String>;
    fn delete(&self, name: &str) -> Result<(), String>;
    fn list(&self, prefix: &str) -> Result<Vec<String>, String>;
}

pub fn warn(message: &str) {
    eprintln!("awsrole: warning: {message}");
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
#[path = "../../../src/cache/native.rs"]
pub mod native;
