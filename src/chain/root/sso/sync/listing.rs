//! Every account and role the signed-in user has, from the portal: ListAccounts page by
//! page, then ListAccountRoles for the accounts a few at a time, every call backing off
//! when the portal answers TooManyRequests. A throttled call pauses all of them, as a
//! rate limit is the portal's, not one call's.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::chain::root::sso::client::{Account, Clients, Failure, Lister, Page};

/// The largest page the portal gives (its model's maximum).
const PAGE_SIZE: i32 = 100;
/// ListAccountRoles calls in flight at once: enough to hide the round trips, few enough
/// that a portal with hundreds of accounts is not hit by hundreds of calls at once.
pub const CONCURRENCY: usize = 8;
/// Tries of one call that the portal keeps throttling, and the back-off between them:
/// 0.1 s doubling to at most 4 s, each with jitter (about 10 s in all before giving up).
const TRIES: u32 = 8;
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(4);

/// An account and the names of the user's roles in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRoles {
    pub account: Account,
    pub roles: Vec<String>,
}

#[derive(Debug)]
pub struct Listing {
    /// By account id; each account's roles sorted.
    pub accounts: Vec<AccountRoles>,
    /// How many answers were TooManyRequests (each retried after a pause).
    pub throttled: usize,
}

/// Why the listing stopped: the call, and the portal's answer.
#[derive(Debug)]
pub struct ListingFailure {
    pub call: String,
    pub failure: Failure,
}

pub fn throttled(f: &Failure) -> bool {
    f.status() == 429 || f.code() == "TooManyRequestsException"
}

/// Shared by every call: the pause a throttled answer asked for.
struct Pacing {
    until: Mutex<Option<Instant>>,
    throttled: AtomicUsize,
}

impl Pacing {
    async fn wait(&self) {
        let until = *self.until.lock().expect("pacing lock");
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    fn back_off(&self, attempt: u32) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let pause = FIRST_PAUSE
            .saturating_mul(1 << attempt.min(16))
            .min(LONGEST_PAUSE);
        // Between half and all of it, so that the calls paused together do not all
        // come back at the same instant.
        let mut byte = [0u8; 1];
        let _ = getrandom::fill(&mut byte);
        let pause = pause.mul_f64(0.5 + f64::from(byte[0]) / 510.0);
        let until = Instant::now() + pause;
        let mut current = self.until.lock().expect("pacing lock");
        if current.is_none_or(|c| c < until) {
            *current = Some(until);
        }
    }

    /// `call`, again after a pause each time the portal throttles it.
    async fn call<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, ListingFailure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let mut attempt = 0;
        loop {
            self.wait().await;
            match call().await {
                Err(f) if throttled(&f) && attempt + 1 < TRIES => {
                    self.back_off(attempt);
                    attempt += 1;
                }
                Err(failure) => {
                    return Err(ListingFailure {
                        call: what.to_string(),
                        failure,
                    })
                }
                Ok(v) => return Ok(v),
            }
        }
    }
}

/// Every account and its roles, sorted by account id.
pub fn list(clients: &Clients, token: &str) -> Result<Listing, ListingFailure> {
    let lister = clients.lister();
    let pacing = Arc::new(Pacing {
        until: Mutex::new(None),
        throttled: AtomicUsize::new(0),
    });
    let token: Arc<str> = Arc::from(token);
    let mut accounts = clients.block_on(all_accounts(&lister, &token, &pacing))?;
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    accounts.dedup_by(|a, b| a.id == b.id);
    let mut listed = clients.block_on(all_roles(lister, token, pacing.clone(), accounts))?;
    listed.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    Ok(Listing {
        accounts: listed,
        throttled: pacing.throttled.load(Ordering::Relaxed),
    })
}

async fn all_accounts(
    lister: &Lister,
    token: &str,
    pacing: &Pacing,
) -> Result<Vec<Account>, ListingFailure> {
    let mut found = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page: Page<Account> = pacing
            .call("ListAccounts", || {
                lister.accounts(token, next.as_deref(), PAGE_SIZE)
            })
            .await?;
        found.extend(page.items);
        match page.next {
            // A portal that hands back the token it was given would loop forever.
            Some(n) if next.as_deref() != Some(n.as_str()) => next = Some(n),
            _ => return Ok(found),
        }
    }
}

async fn roles_of(
    lister: &Lister,
    token: &str,
    pacing: &Pacing,
    account: &str,
) -> Result<Vec<String>, ListingFailure> {
    let what = format!("ListAccountRoles for account {account}");
    let mut roles = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = pacing
            .call(&what, || {
                lister.account_roles(token, account, next.as_deref(), PAGE_SIZE)
            })
            .await?;
        roles.extend(page.items);
        match page.next {
            Some(n) if next.as_deref() != Some(n.as_str()) => next = Some(n),
            _ => break,
        }
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// CONCURRENCY workers take accounts off one queue until it is empty; the first
/// failure stops them all (the others are dropped with the set).
async fn all_roles(
    lister: Lister,
    token: Arc<str>,
    pacing: Arc<Pacing>,
    accounts: Vec<Account>,
) -> Result<Vec<AccountRoles>, ListingFailure> {
    let queue = Arc::new(Mutex::new(VecDeque::from(accounts)));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (lister, token, pacing, queue) =
            (lister.clone(), token.clone(), pacing.clone(), queue.clone());
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let Some(account) = queue.lock().expect("queue lock").pop_front() else {
                    return Ok(done);
                };
                let roles = roles_of(&lister, &token, &pacing, &account.id).await?;
                done.push(AccountRoles { account, roles });
            }
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(done)) => all.extend(done),
            Ok(Err(e)) => return Err(e),
            Err(e) => {
                return Err(ListingFailure {
                    call: "ListAccountRoles".into(),
                    failure: Failure::Unreachable(format!("a listing task failed: {e}")),
                })
            }
        }
    }
    Ok(all)
}
