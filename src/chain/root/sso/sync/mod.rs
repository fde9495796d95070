//! `awsrole sso sync`: one profile per IAM Identity Center account and role, written into
//! a marked block of the config file, one block per `[sso-session]`.
//!
//! Safe to run every morning: the config is parsed first and a broken one refused before
//! any call; only the block's lines change; a profile written by hand is never
//! overwritten; a sync that changes nothing writes nothing; the write is atomic (a
//! temporary file beside it, with the file's mode, renamed over it) and is refused when
//! the file changed while the portal was being listed.

pub mod block;
pub mod listing;
pub mod names;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::chain::cache::Backend;
use crate::chain::config::AwsConfig;
use crate::chain::root::sso::client::Clients;
use crate::chain::root::sso::{SignIn, Tokens};
use crate::error::{Error, Result};
use block::{Block, Changes, Split};
use names::{Assignment, Fields, Template};

pub struct Options {
    pub dry_run: bool,
    pub template: Option<String>,
    pub keep_removed: bool,
    pub region: Option<String>,
}

/// Syncs the block of `sign_in` (an `[sso-session]`) in the config file. `backend` is
/// the run's key store, asked for only once everything that can be refused was.
pub fn sync(
    config: &AwsConfig,
    sign_in: &SignIn,
    options: &Options,
    backend: impl FnOnce() -> Result<Backend>,
) -> Result<()> {
    let session = sign_in.session.as_deref().ok_or_else(|| {
        Error::Usage(format!(
            "'awsrole sso sync' writes profiles that name an [sso-session]; {} has none: add [sso-session NAME] with its sso_start_url and sso_region, then 'awsrole sso sync --sso-session NAME'",
            sign_in.name()
        ))
    })?;
    // Everything that can be refused is, before the portal is asked.
    let path = writable_path(&config.config_file)?;
    let original = crate::chain::config::read_optional(&path)?;
    let text = original.as_deref().unwrap_or("");
    let split = block::locate(text, session, &path)?;
    let old = match split.inner {
        Some(inner) => Block::read(inner, &path)?,
        None => Block::default(),
    };
    let settings = Settings::of(options, &old, sign_in)?;
    let taken = hand_written(config, &split, &old, &path)?;

    let listing = writable(list(sign_in, backend()?)?);
    let planned = plan_block(
        session,
        &settings,
        &listing,
        &old,
        &taken,
        options.keep_removed,
    );
    let new_block = block::render(
        session,
        settings.template.text(),
        settings.sticky_region.as_deref(),
        &planned.sections,
    );
    let new_text = block::splice(text, &split, &new_block);
    let changes = Changes::between(&old.sections, &planned.sections);

    report(&planned, &config.config_file);
    if listing.throttled > 0 {
        crate::sys::output::notice(&format!(
            "the portal asked to slow down {} time(s); each of those calls was made again after a pause",
            listing.throttled
        ));
    }
    let summary = format!(
        "{}: {} account(s), {} profile(s) in {}: {} added, {} changed, {} removed",
        sign_in.name(),
        listing.accounts.len(),
        planned.sections.len(),
        config.config_file.display(),
        changes.added.len(),
        changes.changed.len(),
        changes.removed.len(),
    );
    if new_text == text {
        crate::sys::output::notice(&format!("{summary}; nothing to write"));
    } else if options.dry_run {
        crate::sys::output::emit_shown(&changes.diff(
            &old.sections,
            &planned.sections,
            &config.config_file,
        ))?;
        crate::sys::output::notice(&format!("{summary} (--dry-run: nothing was written)"));
    } else {
        write_atomically(
            &path,
            original.as_deref(),
            &new_text,
            "'awsrole sso sync' was listing the portal",
            "run it again",
        )?;
        crate::sys::output::notice(&summary);
    }
    Ok(())
}

/// The template and region of this sync: the flags, else what the last sync recorded in
/// the block (so a plain sync renames nothing), else the defaults.
struct Settings {
    template: Template,
    /// `--region`, now or at an earlier sync: recorded in the block.
    sticky_region: Option<String>,
    region: String,
}

impl Settings {
    fn of(options: &Options, old: &Block, sign_in: &SignIn) -> Result<Settings> {
        let template = options
            .template
            .clone()
            .or_else(|| old.template.clone())
            .unwrap_or_else(|| names::DEFAULT_TEMPLATE.to_string());
        let sticky_region = options.region.clone().or_else(|| old.region.clone());
        Ok(Settings {
            template: Template::parse(&template)?,
            region: sticky_region
                .clone()
                .unwrap_or_else(|| sign_in.region.clone()),
            sticky_region,
        })
    }
}

/// The listing without what cannot be written as a value (see `block::safe_value`).
fn writable(mut listing: listing::Listing) -> listing::Listing {
    for a in &mut listing.accounts {
        let id = a.account.id.clone();
        if !block::safe_value(&id) {
            crate::chain::cache::warn(&format!(
                "skipped an account whose id the portal gave as {id:?}: it cannot be written as a value"
            ));
            a.roles.clear();
        }
        a.roles.retain(|role| {
            let ok = block::safe_value(role);
            if !ok {
                crate::chain::cache::warn(&format!(
                    "skipped role {role:?} of account {id:?}: its name cannot be written as a value"
                ));
            }
            ok
        });
    }
    listing
}

/// The new block's sections, by name, and how they were named.
struct Planned {
    sections: Vec<(String, String)>,
    naming: names::Naming,
    /// Names of the profiles kept with `--keep-removed`.
    kept: Vec<String>,
    account_names: BTreeMap<String, String>,
}

fn plan_block(
    session: &str,
    settings: &Settings,
    listing: &listing::Listing,
    old: &Block,
    taken: &HashSet<String>,
    keep_removed: bool,
) -> Planned {
    let account_names: BTreeMap<String, String> = listing
        .accounts
        .iter()
        .map(|a| (a.account.id.clone(), a.account.name.clone()))
        .collect();
    let wanted: Vec<(Assignment, String)> = listing
        .accounts
        .iter()
        .flat_map(|a| {
            a.roles.iter().map(|role| {
                let name = settings.template.render(&Fields {
                    account_name: &a.account.name,
                    account_id: &a.account.id,
                    role_name: role,
                    sso_session: session,
                });
                let assignment = Assignment {
                    account_id: a.account.id.clone(),
                    role_name: role.clone(),
                };
                (assignment, name)
            })
        })
        .collect();
    let listed: HashSet<&Assignment> = wanted.iter().map(|(a, _)| a).collect();
    let previous: BTreeMap<Assignment, String> = old
        .sections
        .iter()
        .filter_map(|s| Some((s.assignment.clone()?, s.name.clone())))
        .collect();
    // The profiles of accounts or roles that are gone: kept as they were, or dropped.
    let kept: Vec<&block::Section> = old
        .sections
        .iter()
        .filter(|_| keep_removed)
        .filter(|s| s.assignment.as_ref().is_none_or(|a| !listed.contains(a)))
        .filter(|s| !taken.contains(&s.name))
        .collect();
    let reserved: BTreeSet<String> = kept.iter().map(|s| s.name.clone()).collect();
    let naming = names::assign(&wanted, &previous, taken, &reserved);
    let mut sections: Vec<(String, String)> = naming
        .names
        .iter()
        .map(|(a, name)| {
            let account_name = account_names
                .get(&a.account_id)
                .map(String::as_str)
                .unwrap_or_default();
            let text = block::profile_text(name, session, a, account_name, &settings.region);
            (name.clone(), text)
        })
        .chain(kept.iter().map(|s| (s.name.clone(), s.text.clone())))
        .collect();
    sections.sort_by(|a, b| a.0.cmp(&b.0));
    Planned {
        sections,
        naming,
        kept: reserved.into_iter().collect(),
        account_names,
    }
}

/// The token (refreshed, or a sign-in where a person can answer), then the listing.
fn list(sign_in: &SignIn, backend: Backend) -> Result<listing::Listing> {
    let token = Tokens {
        sign_in,
        backend,
        interaction: crate::chain::root::sso::interaction(),
        lock_wait: Duration::from_secs(120),
    }
    .access_token()?;
    let clients = Clients::new(&sign_in.region)?;
    listing::list(&clients, &token).map_err(|e| {
        let f = &e.failure;
        match (f.status(), f.code()) {
            (401, _) | (_, "UnauthorizedException") => {
                crate::chain::root::sso::token_rejected(sign_in, backend)
            }
            _ if listing::throttled(f) => Error::Sso(format!(
                "IAM Identity Center kept answering TooManyRequests to {} for about 10 s; wait a minute and run 'awsrole sso sync' again",
                e.call
            )),
            (0, _) => Error::Sso(format!(
                "cannot reach IAM Identity Center at {} ({f}); check the network, or AWS_ENDPOINT_URL_SSO",
                clients.portal_endpoint
            )),
            _ => Error::Sso(format!("{} failed: {f}", e.call)),
        }
    })
}

/// The names the block must not take: every profile outside it (written by hand, or
/// another session's block), and a credentials-file profile of the same name, whose keys
/// botocore would lay over the generated profile.
fn hand_written(
    config: &AwsConfig,
    split: &Split,
    old: &Block,
    path: &Path,
) -> Result<HashSet<String>> {
    // A section header between the two parts, so that keys right after the block (which
    // the file gives to the block's last profile) cannot read as keys outside a section.
    let outside = format!("{}[awsrole sync: block]\n{}", split.before, split.after);
    let mut taken: HashSet<String> = crate::chain::config::profile_names(&outside, path)?
        .into_iter()
        .collect();
    let inside: HashSet<&str> = old.sections.iter().map(|s| s.name.as_str()).collect();
    for (name, profile) in &config.profiles {
        if !inside.contains(name.as_str()) || !profile.credentials.is_empty() {
            taken.insert(name.clone());
        }
    }
    Ok(taken)
}

/// Each profile skipped, given another name than the template's, or kept, on stderr.
fn report(planned: &Planned, shown_path: &Path) {
    let who = |a: &Assignment| {
        let name = planned
            .account_names
            .get(&a.account_id)
            .filter(|n| !n.is_empty())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        format!("account {}{name} role {}", a.account_id, a.role_name)
    };
    for (a, name) in &planned.naming.skipped {
        let why = if name == "default" {
            "'default' is the default profile's name".to_string()
        } else {
            format!(
                "a profile '{name}' written by hand is in {} or the credentials file, and is left as it is",
                shown_path.display()
            )
        };
        crate::sys::output::notice(&format!(
            "skipped {}: {why}; rename that profile, or choose other names with --name-template",
            who(a)
        ));
    }
    for (a, wanted, given) in &planned.naming.renamed {
        crate::sys::output::notice(&format!(
            "{} is '{given}': '{wanted}' is another account's or role's name too",
            who(a)
        ));
    }
    if !planned.kept.is_empty() {
        crate::sys::output::notice(&format!(
            "kept {} profile(s) whose account or role the portal no longer lists (--keep-removed): {}",
            planned.kept.len(),
            planned.kept.join(", ")
        ));
    }
}

/// The file to replace: the config itself, or what its symbolic link points at (a
/// dotfiles manager's link stays a link).
pub(crate) fn writable_path(config_file: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(config_file) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(config_file).map_err(|e| {
            Error::io(
                format!(
                    "{} is a link to a file that cannot be reached; fix the link",
                    config_file.display()
                ),
                e,
            )
        }),
        _ => Ok(config_file.to_path_buf()),
    }
}

/// A temporary file beside `path` with its mode, synced, checked against a change made
/// meanwhile, then renamed over it.
/// A change made meanwhile is told as `{path} changed while {doing}; nothing was
/// written: {then}`.
pub(crate) fn write_atomically(
    path: &Path,
    original: Option<&str>,
    text: &str,
    doing: &str,
    then: &str,
) -> Result<()> {
    let fail = |e: std::io::Error| Error::io(format!("cannot write {}", path.display()), e);
    let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut changed = false;
    // Someone (an editor, `aws configure`, another sync) wrote the file while the
    // portal was listed: theirs wins, and the sync is for another run.
    let written = crate::sys::dirs::replace_with(path, text.as_bytes(), mode, || {
        changed = crate::chain::config::read_optional(path)
            .ok()
            .flatten()
            .as_deref()
            != original;
        match changed {
            true => Err(std::io::Error::other("changed meanwhile")),
            false => Ok(()),
        }
    });
    match written {
        Ok(()) => Ok(()),
        Err(_) if changed => Err(Error::System(format!(
            "{} changed while {doing}; nothing was written: {then}",
            path.display()
        ))),
        Err(e) => Err(fail(e)),
    }
}
