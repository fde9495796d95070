//! An in-memory `SecretStore` for unit tests (clones share one map): the cache's pure
//! logic, the commands over `App::for_tests`, SSO logout.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use chrono::{DateTime, Utc};

use super::SecretStore;

#[derive(Default, Clone)]
pub(crate) struct Memory(pub(crate) Rc<RefCell<BTreeMap<String, Vec<u8>>>>);

impl SecretStore for Memory {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.borrow().get(name).cloned())
    }
    fn put(&self, name: &str, value: &[u8], _: Option<DateTime<Utc>>) -> Result<(), String> {
        self.0.borrow_mut().insert(name.into(), value.to_vec());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), String> {
        self.0.borrow_mut().remove(name);
        Ok(())
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        Ok(self
            .0
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }
}
