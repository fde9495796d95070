//! Profile name → the calls that will produce its credentials. Pure: no I/O, no clock.
//!
//! The walk follows botocore's `AssumeRoleProvider`: a role profile takes its source
//! from `source_profile` (recursing while that profile is itself a role without static
//! keys) or from `credential_source`; a profile revisited is a loop, except a profile
//! naming itself while holding its own keys.

use std::collections::BTreeMap;

use crate::chain::config::{AwsConfig, Profile};
use crate::error::{suggest, Error, Result};
use crate::sys::duration::parse_duration;

/// AWS limits a role session reached by chaining (including one assumed with
/// GetSessionToken credentials) to one hour and rejects a longer DurationSeconds.
pub const CHAINED_MAX_SECONDS: u32 = 3600;
/// How long one MFA session (GetSessionToken) lasts: one code serves every role that
/// names the serial for this long. aws-vault uses 8 h for chained roles too.
pub const MFA_SESSION_SECONDS: u32 = 8 * 3600;
/// No real chain comes near this; a longer one is a mistake (or a hostile config), and
/// botocore itself fails on recursion a few hundred deep. It keeps `list` linear.
pub const MAX_CHAIN: usize = 128;

/// The long-term or externally provided credentials a chain starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// Static keys of a profile: from the OS keyring (`awsrole add`) when present there,
    /// else these keys from the credentials or config file.
    Keys {
        profile: String,
        file_keys: Option<StaticKeys>,
    },
    /// `credential_process` of a profile.
    Process { profile: String, command: String },
    /// `credential_source = Environment`: the AWS_* variables awsrole was started with.
    Environment { profile: String },
    /// IAM Identity Center: GetRoleCredentials with the token of a sign-in.
    Sso { profile: String, sso: SsoRoot },
    /// `web_identity_token_file` + `role_arn`: AssumeRoleWithWebIdentity (unsigned)
    /// with the token the file holds at call time.
    WebIdentity { profile: String, web: WebIdentity },
    /// `credential_source = Ec2InstanceMetadata`: the instance role, from IMDS.
    InstanceMetadata { profile: String, imds: ImdsSettings },
    /// `credential_source = EcsContainer`: the container credentials endpoint.
    Container { profile: String },
    /// `login_session`: the session of `aws login` / `awsrole login` (its ARN), whose
    /// 15-minute credentials are refreshed at the sign-in service of `region`.
    Login {
        profile: String,
        session: String,
        region: Option<String>,
    },
}

/// An IAM Identity Center root, as botocore's SSOProvider reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoRoot {
    /// `sso_session`, when the profile names one; else the legacy form.
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    pub account_id: String,
    pub role_name: String,
    /// `sso_registration_scopes` of the session (legacy profiles have none).
    pub scopes: Vec<String>,
    /// The account's name in the portal, as `sso sync` wrote it
    /// (`awsrole_account_name`): shown beside the id, never sent anywhere.
    pub account_name: Option<String>,
}

impl SsoRoot {
    /// What names the sign-in: the session name, or the start URL as written for
    /// legacy profiles. The AWS CLI's token file is the SHA-1 of it.
    pub fn token_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// The command that signs in for this root.
    pub fn login_command(&self, profile: &str) -> String {
        match &self.session {
            Some(session) => format!(
                "awsrole sso login --sso-session {}",
                shell_words::quote(session)
            ),
            None => format!("awsrole sso login {}", shell_words::quote(profile)),
        }
    }
}

/// A web identity root as botocore's AssumeRoleWithWebIdentityProvider reads it for a
/// named profile: the profile's keys only. botocore (and the Go SDK) read
/// `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME` only when no
/// profile is named, and every awsrole command names one.
#[derive(Debug, Clone, PartialEq)]
pub struct WebIdentity {
    pub token_file: String,
    pub role_arn: String,
    pub session_name: Option<String>,
    /// The chain's region and STS endpoint, filled in by `plan`.
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// The instance metadata settings of the named profile's config (botocore reads them
/// from the session's profile; the `AWS_*` variables, read at call time, win).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImdsSettings {
    pub endpoint: Option<String>,
    pub endpoint_mode: Option<String>,
    pub use_ipv6: Option<String>,
    pub timeout: Option<String>,
    pub attempts: Option<String>,
    pub v1_disabled: Option<String>,
}

impl ImdsSettings {
    fn of(p: &Profile) -> Self {
        let get = |k: &str| p.get(k).map(str::to_string);
        ImdsSettings {
            endpoint: get("ec2_metadata_service_endpoint"),
            endpoint_mode: get("ec2_metadata_service_endpoint_mode"),
            use_ipv6: get("imds_use_ipv6"),
            timeout: get("metadata_service_timeout"),
            attempts: get("metadata_service_num_attempts"),
            v1_disabled: get("ec2_metadata_v1_disabled"),
        }
    }
}

/// The profile keys that make a profile an SSO root (botocore: either one).
const SSO_ROOT_KEYS: [&str; 2] = ["sso_account_id", "sso_role_name"];

impl Root {
    pub fn profile(&self) -> &str {
        match self {
            Root::Keys { profile, .. }
            | Root::Process { profile, .. }
            | Root::Environment { profile }
            | Root::WebIdentity { profile, .. }
            | Root::InstanceMetadata { profile, .. }
            | Root::Container { profile }
            | Root::Sso { profile, .. }
            | Root::Login { profile, .. } => profile,
        }
    }

    /// Whether the root certainly holds long-term keys, which alone may call
    /// GetSessionToken. Environment and process credentials may be sessions already.
    pub fn is_long_term(&self) -> bool {
        match self {
            Root::Keys { file_keys, .. } => file_keys
                .as_ref()
                .map(|k| k.session_token.is_none())
                .unwrap_or(true),
            _ => false,
        }
    }

    /// Whether the root's credentials are certainly a role session already (IAM
    /// Identity Center's role credentials, a web identity's role, an instance's or a
    /// container's role): a role assumed from them is chained, at most an hour. No
    /// catch-all arm: a new root must answer.
    pub fn is_role_session(&self) -> bool {
        match self {
            Root::Sso { .. }
            | Root::WebIdentity { .. }
            | Root::InstanceMetadata { .. }
            | Root::Container { .. } => true,
            Root::Keys { .. }
            | Root::Process { .. }
            | Root::Environment { .. }
            | Root::Login { .. } => false,
        }
    }
}

#[derive(Clone, PartialEq)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticKeys {
    // Never print a secret, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeys")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The MFA device of a hop and how its code is obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct Mfa {
    pub serial: String,
    pub process: Option<String>,
}

/// A GetSessionToken: made with MFA before the first role, or, for a profile of
/// long-term keys alone, the credential handed out (with MFA when the profile has
/// `mfa_serial`), so the master key never reaches a shell (`--no-session` opts out).
/// Cached per (keys, serial).
#[derive(Debug, Clone, PartialEq)]
pub struct MfaSession {
    pub mfa: Option<Mfa>,
    pub duration: u32,
}

/// One AssumeRole call.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    /// Configured `role_session_name`; otherwise one is made at call time.
    pub session_name: Option<String>,
    /// MFA fields sent on this AssumeRole itself.
    pub mfa: Option<Mfa>,
    pub duration: Option<u32>,
    /// The duration asked for, when it was cut to the chaining limit.
    pub capped_from: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChainPlan {
    pub target: String,
    pub root: Root,
    pub mfa_session: Option<MfaSession>,
    /// In call order: the first is assumed with the root's (or MFA session's) credentials.
    pub hops: Vec<Hop>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// `awsrole_confirm` is on for the target or a profile it is reached through: ask
    /// before switching to it.
    pub confirm: bool,
    /// Which profile of the chain turns the guard on (the target first).
    pub guarded_by: Option<String>,
}

impl ChainPlan {
    /// Whether the target's own session is a chained one (assumed from a session: an
    /// MFA session, another role, a root that is a role session), so at most an hour.
    pub fn target_is_chained(&self) -> bool {
        self.hops.len() > 1
            || (self.hops.len() == 1 && (self.mfa_session.is_some() || self.root.is_role_session()))
    }

    /// The account the credentials end up in: the target role's, from its ARN.
    pub fn account(&self) -> Option<&str> {
        let Some(hop) = self.hops.last() else {
            return match &self.root {
                Root::Sso { sso, .. } => Some(sso.account_id.as_str()),
                Root::Login { session, .. } => session.split(':').nth(4),
                Root::WebIdentity { web, .. } => web.role_arn.split(':').nth(4),
                _ => None,
            };
        };
        hop.role_arn.split(':').nth(4).filter(|a| !a.is_empty())
    }

    /// Whether resolving may need a person: an MFA code.
    pub fn needs_mfa(&self) -> bool {
        self.mfa_session.as_ref().is_some_and(|s| s.mfa.is_some())
            || self.hops.iter().any(|h| h.mfa.is_some())
    }

    #[cfg(test)]
    /// Profile names from the target down to the root, e.g. role-e … role-a, default.
    pub fn chain_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.hops.iter().rev().map(|h| h.profile.clone()).collect();
        if names.last().map(String::as_str) != Some(self.root.profile()) {
            names.push(self.root.profile().to_string());
        }
        names
    }

    /// One line per hop whose duration was cut, for stderr.
    pub fn notices(&self) -> Vec<String> {
        self.hops
            .iter()
            .filter_map(|h| {
                h.capped_from.map(|asked| {
                    format!(
                        "{}: duration {asked}s capped at {CHAINED_MAX_SECONDS}s: AWS limits a chained role session to one hour",
                        h.profile
                    )
                })
            })
            .collect()
    }
}

/// What planning needs from outside the files.
#[derive(Debug, Clone, Default)]
pub struct PlanInputs {
    /// `--duration`, applied to the target's own hop.
    pub duration: Option<u32>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub env_region: Option<String>,
    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`.
    pub env_endpoint: Option<String>,
    /// No "did you mean" in errors: `list` plans every profile, and suggestions for
    /// each missing name would make it quadratic in the number of profiles.
    pub skip_suggestions: bool,
    /// `--no-session`: a profile of long-term keys alone hands out the keys themselves.
    pub no_session: bool,
}

impl PlanInputs {
    pub fn from_env(duration: Option<u32>) -> Self {
        let var = |k: &str| crate::sys::settings::var(k).ok().filter(|v| !v.is_empty());
        PlanInputs {
            duration,
            env_region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            env_endpoint: var("AWS_ENDPOINT_URL_STS").or_else(|| var("AWS_ENDPOINT_URL")),
            skip_suggestions: false,
            no_session: false,
        }
    }
}

/// Whether the credentials an AssumeRole is made with are long-term keys or a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    LongTerm,
    Session,
}

/// How one role hop is called: the decision aws-vault has broken release after release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopCall {
    /// Open an MFA session (GetSessionToken) first and assume the role from it.
    pub session_token_first: bool,
    /// Send SerialNumber and TokenCode on the AssumeRole itself.
    pub mfa_on_assume: bool,
    pub duration: Option<u32>,
    pub capped: bool,
}

/// `first`: the hop assumed directly from the root. A role session can never call
/// GetSessionToken; a role assumed from a session (role or MFA session) is chained.
pub fn decide_hop(first: bool, source: SourceKind, asked: Option<u32>, mfa: bool) -> HopCall {
    let long_term_first = first && source == SourceKind::LongTerm;
    let session_token_first =
        long_term_first && mfa && asked.is_none_or(|d| d <= CHAINED_MAX_SECONDS);
    let chained = !long_term_first || session_token_first;
    let (duration, capped) = match asked {
        Some(d) if chained && d > CHAINED_MAX_SECONDS => (Some(CHAINED_MAX_SECONDS), true),
        other => (other, false),
    };
    HopCall {
        session_token_first,
        mfa_on_assume: mfa && !session_token_first,
        duration,
        capped,
    }
}

pub fn plan(config: &AwsConfig, target: &str, inputs: &PlanInputs) -> Result<ChainPlan> {
    let target_profile = config.profile(target)?;
    let (roles, mut root) = walk_to_root(config, target_profile, inputs)?;
    let (hops, mut mfa_session) = plan_hops(&roles, &root, target_profile, inputs)?;
    if hops.is_empty() {
        mfa_session = keys_session(&root, target_profile, inputs);
    }
    // The profiles a setting is looked up in, nearest first: the target, each role it
    // is reached through, the root's profile.
    let chain: Vec<&Profile> = std::iter::once(target_profile)
        .chain(roles.iter().rev().skip(1).copied())
        .chain(config.profiles.get(root.profile()))
        .collect();
    let guarded_by = guard_of(&chain, target)?;
    let (region, endpoint) = settle_place(config, &chain, &mut root, inputs);

    Ok(ChainPlan {
        target: target.to_string(),
        root,
        mfa_session,
        hops,
        region,
        endpoint,
        confirm: guarded_by.is_some(),
        guarded_by,
    })
}

/// Phase 1: from the target along `source_profile` to the root: the role profiles in
/// call order (the root's first), and the root. Loops, over-long chains and missing
/// sources are refused here.
fn walk_to_root<'c>(
    config: &'c AwsConfig,
    target_profile: &'c Profile,
    inputs: &PlanInputs,
) -> Result<(Vec<&'c Profile>, Root)> {
    let target = target_profile.name.as_str();
    let mut roles: Vec<&Profile> = Vec::new();
    let mut visited: Vec<String> = vec![target.to_string()];
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::from([target]);
    let mut current = target_profile;

    let root = loop {
        let is_role = has_role(current) && (roles.is_empty() || !has_static_keys(current));
        if !is_role {
            break source_root(current, config)?;
        }
        roles.push(current);
        if roles.len() > MAX_CHAIN {
            return Err(Error::BadProfile {
                profile: target.to_string(),
                problem: format!(
                    "its chain is longer than {MAX_CHAIN} roles ({} → {} → … → {}); check the source_profile settings",
                    visited[0],
                    visited.get(1).map(String::as_str).unwrap_or(""),
                    current.name
                ),
            });
        }
        let source = current.get("source_profile");
        let credential_source = current.get("credential_source");
        match (source, credential_source) {
            (Some(_), Some(_)) => {
                return Err(Error::SourceAndCredentialSource {
                    profile: current.name.clone(),
                })
            }
            // The Go SDK's form: `login_session` and `role_arn` in one profile, the
            // role assumed with the session's credentials (botocore wants a
            // source_profile; both forms work here).
            (None, None) if current.get("login_session").is_some() => {
                break login_root(current).expect("login_session is set");
            }
            (None, None) => {
                return Err(Error::NoSource {
                    profile: current.name.clone(),
                })
            }
            (None, Some(kind)) => break credential_source_root(current, kind, target_profile)?,
            (Some(source), None) => {
                let next =
                    config
                        .profiles
                        .get(source)
                        .ok_or_else(|| Error::MissingSourceProfile {
                            profile: current.name.clone(),
                            source_name: source.to_string(),
                            hint: if inputs.skip_suggestions {
                                String::new()
                            } else {
                                suggest(source, config.profiles.keys().map(String::as_str))
                            },
                        })?;
                if seen.contains(source) {
                    let self_with_keys = source == current.name && has_static_keys(next);
                    if !self_with_keys {
                        visited.push(source.to_string());
                        return Err(Error::SourceLoop {
                            cycle: loop_text(&visited),
                        });
                    }
                    break source_root(next, config)?;
                }
                visited.push(source.to_string());
                seen.insert(source);
                current = next;
            }
        }
    };

    roles.reverse();
    Ok((roles, root))
}

/// Phase 2: one hop per role, each with the MFA and duration decision (`decide_hop`);
/// the MFA session where the first hop's code is better spent on GetSessionToken.
fn plan_hops(
    roles: &[&Profile],
    root: &Root,
    target_profile: &Profile,
    inputs: &PlanInputs,
) -> Result<(Vec<Hop>, Option<MfaSession>)> {
    let mut hops = Vec::with_capacity(roles.len());
    let mut mfa_session = None;
    for (index, profile) in roles.iter().enumerate() {
        let is_target = index + 1 == roles.len();
        let asked = match (is_target, inputs.duration) {
            (true, Some(d)) => Some(d),
            _ => duration_setting(profile)?,
        };
        let mfa = profile.get("mfa_serial").map(|serial| Mfa {
            serial: serial.to_string(),
            process: profile
                .get("mfa_process")
                .or_else(|| target_profile.get("mfa_process"))
                .map(str::to_string),
        });
        let source_kind = if index == 0 && root.is_long_term() {
            SourceKind::LongTerm
        } else {
            SourceKind::Session
        };
        let call = decide_hop(index == 0, source_kind, asked, mfa.is_some());
        if call.session_token_first {
            mfa_session = Some(MfaSession {
                mfa: Some(
                    mfa.clone()
                        .expect("MFA session is only planned with a serial"),
                ),
                duration: MFA_SESSION_SECONDS,
            });
        }
        hops.push(Hop {
            profile: profile.name.clone(),
            role_arn: profile.get("role_arn").unwrap_or_default().to_string(),
            external_id: profile.get("external_id").map(str::to_string),
            session_name: profile.get("role_session_name").map(str::to_string),
            mfa: if call.mfa_on_assume { mfa } else { None },
            duration: call.duration,
            capped_from: if call.capped { asked } else { None },
        });
    }

    Ok((hops, mfa_session))
}

/// Phase 3: a plain keys profile (no role) is handed out as a session, with MFA when
/// the profile has mfa_serial, as aws-vault does, so long-term keys never reach a shell
/// (`--no-session` hands them out).
fn keys_session(root: &Root, target_profile: &Profile, inputs: &PlanInputs) -> Option<MfaSession> {
    let wanted = root.is_long_term() && matches!(root, Root::Keys { .. }) && !inputs.no_session;
    wanted.then(|| MfaSession {
        mfa: target_profile.get("mfa_serial").map(|serial| Mfa {
            serial: serial.to_string(),
            process: target_profile.get("mfa_process").map(str::to_string),
        }),
        duration: inputs.duration.unwrap_or(MFA_SESSION_SECONDS),
    })
}

/// Phase 4: the region and STS endpoint nearest the target along the chain (then the
/// environment's, then the default profile's region), given to the roots that call STS
/// themselves.
fn settle_place(
    config: &AwsConfig,
    chain: &[&Profile],
    root: &mut Root,
    inputs: &PlanInputs,
) -> (Option<String>, Option<String>) {
    let nearest = |key: &str| chain.iter().find_map(|p| p.get(key)).map(str::to_string);
    let region = nearest("region")
        .or_else(|| inputs.env_region.clone())
        .or_else(|| {
            config
                .profiles
                .get("default")
                .and_then(|d| d.get("region"))
                .map(str::to_string)
        });
    if let Root::Login { region: r, .. } = root {
        r.clone_from(&region);
    }
    let endpoint = inputs
        .env_endpoint
        .clone()
        .or_else(|| nearest("endpoint_url"));
    // AssumeRoleWithWebIdentity goes to the chain's STS, as every hop after it does.
    if let Root::WebIdentity { web, .. } = root {
        web.region.clone_from(&region);
        web.endpoint.clone_from(&endpoint);
    }

    (region, endpoint)
}

/// The first profile of `chain` (target first, then each it is reached through) whose
/// `awsrole_confirm` is on. A value that is neither on nor off refuses the switch: a
/// typo must never leave a production profile unguarded.
fn guard_of(chain: &[&Profile], target: &str) -> Result<Option<String>> {
    let mut guarded_by = None;
    for profile in chain {
        let Some(setting) = profile.setting("awsrole_confirm") else {
            continue;
        };
        match guard_value(&setting.value) {
            Some(true) => {
                guarded_by.get_or_insert_with(|| profile.name.clone());
            }
            Some(false) => {}
            None => {
                let shown: String = setting.value.chars().take(40).collect();
                return Err(Error::BadProfile {
                    profile: profile.name.clone(),
                    problem: format!(
                        "awsrole_confirm = {shown} ({}:{}) is neither on (true, yes, 1, on) nor off (false, no, 0, off), so awsrole will not switch to '{target}'; fix that line",
                        setting.file.display(),
                        setting.line
                    ),
                });
            }
        }
    }
    Ok(guarded_by)
}

/// `true/yes/1/on` (any case) is on, `false/no/0/off` off, anything else `None`. An
/// inline comment (`true  # production`), which botocore keeps as part of the value, is
/// not part of the word.
pub fn guard_value(value: &str) -> Option<bool> {
    let bytes = value.as_bytes();
    let comment = (0..bytes.len())
        .find(|&i| {
            matches!(bytes[i], b'#' | b';') && (i == 0 || bytes[i - 1].is_ascii_whitespace())
        })
        .unwrap_or(bytes.len());
    match value[..comment].trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

fn has_role(p: &Profile) -> bool {
    p.get("role_arn").is_some() && p.get("web_identity_token_file").is_none()
}

/// botocore counts a profile as having static credentials when either key is present.
fn has_static_keys(p: &Profile) -> bool {
    p.get("aws_access_key_id").is_some() || p.get("aws_secret_access_key").is_some()
}

fn file_keys(settings: &BTreeMap<String, crate::chain::config::Setting>) -> Option<StaticKeys> {
    let get = |k: &str| {
        settings
            .get(k)
            .map(|s| s.value.clone())
            .filter(|v| !v.is_empty())
    };
    Some(StaticKeys {
        access_key_id: get("aws_access_key_id")?,
        secret_access_key: get("aws_secret_access_key")?,
        session_token: get("aws_session_token"),
    })
}

/// A source profile that is not (or no longer) a role: botocore's profile providers in
/// their order — credentials-file keys, then `credential_process`, then config-file
/// keys. With none of them, keys may still come from the keyring (`awsrole add`).
fn source_root(p: &Profile, config: &AwsConfig) -> Result<Root> {
    // botocore's first profile provider is web identity, before SSO and the keys.
    if let Some(root) = web_identity_root(p)? {
        return Ok(root);
    }
    // botocore tries SSO before the keys; a profile with both is ambiguous (the Go SDK
    // takes the keys), so it is refused rather than read one way or the other.
    if SSO_ROOT_KEYS.iter().any(|k| p.get(k).is_some()) {
        for other in [
            "aws_access_key_id",
            "aws_secret_access_key",
            "credential_process",
        ] {
            if p.get(other).is_some() {
                return Err(Error::BadProfile {
                    profile: p.name.clone(),
                    problem: format!(
                        "it mixes IAM Identity Center (sso_account_id / sso_role_name) with {other}; keep one kind of credentials per profile"
                    ),
                });
            }
        }
        return Ok(Root::Sso {
            profile: p.name.clone(),
            sso: sso_root(p, config)?,
        });
    }
    check_key_pair(p, &p.credentials)?;
    if let Some(keys) = file_keys(&p.credentials) {
        return Ok(Root::Keys {
            profile: p.name.clone(),
            file_keys: Some(keys),
        });
    }
    // botocore: the credentials file's keys, then the login session, then the process.
    if let Some(root) = login_root(p) {
        return Ok(root);
    }
    if let Some(command) = p.get("credential_process") {
        return Ok(Root::Process {
            profile: p.name.clone(),
            command: command.to_string(),
        });
    }
    check_key_pair(p, &p.config)?;
    if let Some(keys) = file_keys(&p.config) {
        return Ok(Root::Keys {
            profile: p.name.clone(),
            file_keys: Some(keys),
        });
    }
    Ok(Root::Keys {
        profile: p.name.clone(),
        file_keys: None,
    })
}

/// A `login_session` profile's root; its region is the chain's, filled in by `plan`.
fn login_root(p: &Profile) -> Option<Root> {
    p.get("login_session").map(|session| Root::Login {
        profile: p.name.clone(),
        session: session.to_string(),
        region: None,
    })
}

/// botocore's AssumeRoleWithWebIdentityProvider: a profile with a (non-empty)
/// `web_identity_token_file` is a web identity root, whatever else it holds, and needs
/// `role_arn`. The file itself is read at call time: it rotates (EKS, CI runners).
fn web_identity_root(p: &Profile) -> Result<Option<Root>> {
    let Some(token_file) = p.get("web_identity_token_file").filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let Some(role_arn) = p.get("role_arn").filter(|a| !a.is_empty()) else {
        return Err(Error::BadProfile {
            profile: p.name.clone(),
            problem: "it has web_identity_token_file but no role_arn; add the role_arn of the role its token may assume".into(),
        });
    };
    Ok(Some(Root::WebIdentity {
        profile: p.name.clone(),
        web: WebIdentity {
            token_file: token_file.to_string(),
            role_arn: role_arn.to_string(),
            session_name: p.get("role_session_name").map(str::to_string),
            region: None,
            endpoint: None,
        },
    }))
}

/// One key of the pair without the other is botocore's PartialCredentialsError, not a
/// profile without credentials.
fn check_key_pair(
    p: &Profile,
    settings: &BTreeMap<String, crate::chain::config::Setting>,
) -> Result<()> {
    let id = settings.get("aws_access_key_id");
    let secret = settings.get("aws_secret_access_key");
    let (present, missing, setting) = match (id, secret) {
        (Some(s), None) => ("aws_access_key_id", "aws_secret_access_key", s),
        (None, Some(s)) => ("aws_secret_access_key", "aws_access_key_id", s),
        _ => return Ok(()),
    };
    Err(Error::BadProfile {
        profile: p.name.clone(),
        problem: format!(
            "partial credentials: {present} without {missing} in {}; add the missing key",
            setting.file.display()
        ),
    })
}

/// botocore's `_load_sso_config` and `_resolve_sso_session_reference`: the four keys
/// from the profile, or from the `[sso-session]` it names; a key set in both must agree.
fn sso_root(p: &Profile, config: &AwsConfig) -> Result<SsoRoot> {
    let bad = |problem: String| Error::BadProfile {
        profile: p.name.clone(),
        problem,
    };
    let session_name = p.get("sso_session");
    let session = match session_name {
        None => None,
        Some(name) => Some(config.sso_sessions.get(name).ok_or_else(|| {
            bad(format!(
                "its sso_session '{name}' has no [sso-session {name}] section in {}{}",
                config.config_file.display(),
                crate::error::suggest_session(name, config.sso_sessions.keys().map(String::as_str))
            ))
        })?),
    };
    let get = |key: &str| -> Result<Option<String>> {
        let own = p.get(key);
        let shared = session.and_then(|s| s.get(key)).map(|s| s.value.as_str());
        match (own, shared) {
            (Some(a), Some(b)) if a != b => Err(bad(format!(
                "{key} is '{a}' in the profile but '{b}' in [sso-session {}]; make them agree or keep it in one place",
                session_name.unwrap_or_default()
            ))),
            (a, b) => Ok(a.or(b).map(str::to_string)),
        }
    };
    let mut missing = Vec::new();
    let mut need = |key: &str| -> Result<String> {
        let value = get(key)?;
        if value.is_none() {
            missing.push(key.to_string());
        }
        Ok(value.unwrap_or_default())
    };
    let root = SsoRoot {
        session: session_name.map(str::to_string),
        start_url: need("sso_start_url")?,
        region: need("sso_region")?,
        account_id: need("sso_account_id")?,
        role_name: need("sso_role_name")?,
        scopes: Vec::new(),
        account_name: p
            .get(crate::chain::root::sso::sync::block::ACCOUNT_NAME_KEY)
            .map(str::to_string)
            .filter(|n| !n.is_empty()),
    };
    if !missing.is_empty() {
        let place = match session_name {
            Some(name) => format!("the profile or [sso-session {name}]"),
            None => "the profile (or name an [sso-session] with sso_session)".into(),
        };
        return Err(bad(format!(
            "it is configured for IAM Identity Center but is missing {}; add it to {place}",
            missing.join(", ")
        )));
    }
    let scopes = get("sso_registration_scopes")?
        .map(|s| parse_scopes(&s))
        .unwrap_or_default();
    Ok(SsoRoot {
        scopes: if session_name.is_some() {
            scopes
        } else {
            Vec::new()
        },
        ..root
    })
}

/// `sso_registration_scopes`: a comma-separated list, as botocore splits it.
pub fn parse_scopes(text: &str) -> Vec<String> {
    text.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// botocore checks the name exactly (`CanonicalNameCredentialSourcer.is_supported`),
/// although it looks the provider up ignoring case: `ec2instancemetadata` is refused.
fn credential_source_root(p: &Profile, kind: &str, target: &Profile) -> Result<Root> {
    if let Some(key) = SSO_ROOT_KEYS.iter().find(|k| p.get(k).is_some()) {
        return Err(Error::BadProfile {
            profile: p.name.clone(),
            problem: format!(
                "it mixes credential_source with IAM Identity Center ({key}); keep one kind of credentials per profile"
            ),
        });
    }
    match kind {
        "Environment" => Ok(Root::Environment {
            profile: p.name.clone(),
        }),
        // botocore's settings for the metadata service are the named profile's.
        "Ec2InstanceMetadata" => Ok(Root::InstanceMetadata {
            profile: p.name.clone(),
            imds: ImdsSettings::of(target),
        }),
        "EcsContainer" => Ok(Root::Container {
            profile: p.name.clone(),
        }),
        other => Err(Error::BadProfile {
            profile: p.name.clone(),
            problem: format!(
                "credential_source = {other} is not one of Environment, Ec2InstanceMetadata, EcsContainer"
            ),
        }),
    }
}

fn duration_setting(p: &Profile) -> Result<Option<u32>> {
    let Some(setting) = p.setting("duration_seconds") else {
        return Ok(None);
    };
    parse_duration(&setting.value)
        .map(Some)
        .map_err(|why| Error::ConfigSyntax {
            file: setting.file.to_path_buf(),
            line: setting.line,
            problem: format!("duration_seconds of profile '{}': {why}", p.name),
        })
}

/// `a -> b -> a`, starting where the loop starts.
fn loop_text(visited: &[String]) -> String {
    let last = visited.last().expect("a loop has a revisited profile");
    let start = visited.iter().position(|v| v == last).unwrap_or(0);
    visited[start..].join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "[default]\nregion = ap-northeast-1\n\n\
        [profile role-a]\nrole_arn = arn:aws:iam::111111111111:role/RoleA\nmfa_serial = arn:aws:iam::222222222222:mfa/User1\nsource_profile = default\n\n\
        [profile role-b]\nrole_arn = arn:aws:iam::111111111111:role/RoleB\nsource_profile = role-a\n\n\
        [profile role-c]\nrole_arn = arn:aws:iam::111111111111:role/RoleC\nsource_profile = role-b\n\n\
        [profile role-d]\nrole_arn = arn:aws:iam::111111111111:role/RoleD\nsource_profile = role-c\n\n\
        [profile role-e]\nrole_arn = arn:aws:iam::111111111111:role/RoleE\nsource_profile = role-d\n";
    const SEED_CREDS: &str =
        "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n";

    fn plan_of(config: &str, creds: &str, target: &str) -> Result<ChainPlan> {
        plan(
            &AwsConfig::from_texts(config, creds).unwrap(),
            target,
            &PlanInputs::default(),
        )
    }

    #[test]
    fn the_guard_reads_every_spelling_of_on_and_off_and_refuses_anything_else() {
        for on in [
            "true",
            "TRUE",
            "True  # production",
            "yes",
            "1",
            "on",
            "On ; prod",
        ] {
            assert_eq!(guard_value(on), Some(true), "{on:?}");
        }
        for off in ["false", "No", "0", "off", "false # staging"] {
            assert_eq!(guard_value(off), Some(false), "{off:?}");
        }
        for neither in ["", "maybe", "true#x", "y", "# true", "2"] {
            assert_eq!(guard_value(neither), None, "{neither:?}");
        }
        let guarded = |value: &str, target: &str| {
            plan_of(
                &format!("{SEED}\n[profile prod]\nrole_arn = arn:aws:iam::333333333333:role/P\nsource_profile = default\nawsrole_confirm = {value}\n\n[profile below]\nrole_arn = arn:aws:iam::333333333333:role/B\nsource_profile = prod\n"),
                SEED_CREDS,
                target,
            )
        };
        let p = guarded("yes  # production", "prod").unwrap();
        assert!(p.confirm);
        assert_eq!(p.guarded_by.as_deref(), Some("prod"));
        let below = guarded("on", "below").unwrap();
        assert_eq!(
            below.guarded_by.as_deref(),
            Some("prod"),
            "reached through it"
        );
        assert!(!guarded("off", "below").unwrap().confirm);
        assert!(!plan_of(SEED, SEED_CREDS, "role-e").unwrap().confirm);
        let err = guarded("ture", "below").unwrap_err().to_string();
        assert!(
            err.contains("profile 'prod'")
                && err.contains("awsrole_confirm = ture")
                && err.contains("will not switch to 'below'"),
            "{err}"
        );
    }

    #[test]
    fn a_login_session_is_a_root_in_both_chain_forms_with_the_chain_region() {
        const ARN: &str = "arn:aws:iam::123456789012:user/alice";
        let config = format!(
            "[profile dev]\nlogin_session = {ARN}\nregion = eu-west-2\n\n\
             [profile via-source]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = dev\n\n\
             [profile go-form]\nlogin_session = {ARN}\nrole_arn = arn:aws:iam::123456789012:role/G\nregion = us-gov-west-1\n\n\
             [profile keys-win]\nlogin_session = {ARN}\n"
        );
        let creds = "[keys-win]\naws_access_key_id = AKID\naws_secret_access_key = s\n";
        let login = |session: &str, region: &str, profile: &str| Root::Login {
            profile: profile.into(),
            session: session.into(),
            region: Some(region.into()),
        };
        let dev = plan_of(&config, creds, "dev").unwrap();
        assert_eq!(dev.root, login(ARN, "eu-west-2", "dev"));
        assert_eq!(dev.account(), Some("123456789012"));
        assert!(dev.hops.is_empty() && dev.mfa_session.is_none());
        let via = plan_of(&config, creds, "via-source").unwrap();
        assert_eq!(via.root, login(ARN, "eu-west-2", "dev"));
        assert_eq!(via.hops.len(), 1);
        let go = plan_of(&config, creds, "go-form").unwrap();
        assert_eq!(go.root, login(ARN, "us-gov-west-1", "go-form"));
        assert_eq!(go.hops[0].role_arn, "arn:aws:iam::123456789012:role/G");
        // botocore's order: the credentials file's keys before the login session.
        assert!(matches!(
            plan_of(&config, creds, "keys-win").unwrap().root,
            Root::Keys { .. }
        ));
    }

    #[test]
    fn web_identity_and_metadata_roots_follow_botocore() {
        const WEB: &str = "arn:aws:iam::111122223333:role/ci";
        let config = format!(
            "[profile ci]\nweb_identity_token_file = /run/token\nrole_arn = {WEB}\nrole_session_name = run-1\nregion = eu-west-1\n\
             sso_account_id = 1\n\n\
             [profile deploy]\nrole_arn = arn:aws:iam::111122223333:role/deploy\nsource_profile = ci\n\n\
             [profile no-arn]\nweb_identity_token_file = /run/token\n\n\
             [profile empty-file]\nweb_identity_token_file =\nrole_arn = {WEB}\n\n\
             [profile box]\nrole_arn = arn:aws:iam::1:role/b\ncredential_source = Ec2InstanceMetadata\n\
             ec2_metadata_service_endpoint = http://own/\n\n\
             [profile on-box]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = box\n\n\
             [profile named]\nrole_arn = arn:aws:iam::1:role/n\ncredential_source = EcsContainer\n\
             metadata_service_timeout = 3\n\n\
             [profile lower]\nrole_arn = arn:aws:iam::1:role/l\ncredential_source = ec2instancemetadata\n"
        );
        // Web identity is botocore's first profile provider: before SSO keys, and a
        // role_arn beside the token file is its role, not a hop.
        let ci = plan_of(&config, "", "ci").unwrap();
        let web = WebIdentity {
            token_file: "/run/token".into(),
            role_arn: WEB.into(),
            session_name: Some("run-1".into()),
            region: Some("eu-west-1".into()),
            endpoint: None,
        };
        assert_eq!(
            ci.root,
            Root::WebIdentity {
                profile: "ci".into(),
                web: web.clone()
            }
        );
        assert!(ci.hops.is_empty());
        assert_eq!(ci.account(), Some("111122223333"));
        let deploy = plan_of(&config, "", "deploy").unwrap();
        assert_eq!(deploy.chain_names(), ["deploy", "ci"]);
        assert!(matches!(deploy.root, Root::WebIdentity { .. }));
        let error = plan_of(&config, "", "no-arn").unwrap_err().to_string();
        assert!(error.contains("no role_arn"), "{error}");
        // An empty file name is no web identity (botocore skips it), and no role either.
        assert!(matches!(
            plan_of(&config, "", "empty-file").unwrap().root,
            Root::Keys {
                file_keys: None,
                ..
            }
        ));
        // The metadata settings are the named profile's, as botocore's session reads them.
        let on_box = plan_of(&config, "", "on-box").unwrap();
        assert_eq!(
            on_box.root,
            Root::InstanceMetadata {
                profile: "box".into(),
                imds: ImdsSettings::default()
            }
        );
        let boxed = plan_of(&config, "", "box").unwrap();
        assert!(
            matches!(&boxed.root, Root::InstanceMetadata { imds, .. } if imds.endpoint.as_deref() == Some("http://own/"))
        );
        assert_eq!(
            plan_of(&config, "", "named").unwrap().root,
            Root::Container {
                profile: "named".into()
            }
        );
        let error = plan_of(&config, "", "lower").unwrap_err().to_string();
        assert!(error.contains("is not one of"), "{error}");
    }

    #[test]
    fn five_hop_chain_plans_one_mfa_session_and_five_roles() {
        let p = plan_of(SEED, SEED_CREDS, "role-e").unwrap();
        let roles: Vec<&str> = p.hops.iter().map(|h| h.profile.as_str()).collect();
        assert_eq!(roles, ["role-a", "role-b", "role-c", "role-d", "role-e"]);
        assert_eq!(p.root.profile(), "default");
        assert_eq!(
            p.mfa_session
                .as_ref()
                .and_then(|s| s.mfa.as_ref())
                .map(|m| m.serial.as_str()),
            Some("arn:aws:iam::222222222222:mfa/User1")
        );
        assert!(p.hops.iter().all(|h| h.mfa.is_none()));
        assert_eq!(p.region.as_deref(), Some("ap-northeast-1"));
        assert_eq!(
            p.chain_names(),
            ["role-e", "role-d", "role-c", "role-b", "role-a", "default"]
        );
    }

    #[test]
    fn a_source_profile_loop_names_the_cycle() {
        let cfg = "[profile loop-a]\nrole_arn = A\nsource_profile = loop-b\n[profile loop-b]\nrole_arn = B\nsource_profile = loop-a\n";
        let err = plan_of(cfg, "", "loop-a").unwrap_err().to_string();
        assert!(err.contains("loop-a -> loop-b -> loop-a"), "{err}");
        let cfg = "[profile x]\nrole_arn = X\nsource_profile = a\n[profile a]\nrole_arn = A\nsource_profile = b\n[profile b]\nrole_arn = B\nsource_profile = a\n";
        let err = plan_of(cfg, "", "x").unwrap_err().to_string();
        assert!(
            err.contains("a -> b -> a") && !err.contains("x ->"),
            "{err}"
        );
    }

    #[test]
    fn a_profile_naming_itself_needs_its_own_keys() {
        let cfg = "[profile me]\nrole_arn = R\nsource_profile = me\n";
        let err = plan_of(cfg, "", "me").unwrap_err().to_string();
        assert!(err.contains("me -> me"), "{err}");
        let p = plan_of(
            cfg,
            "[me]\naws_access_key_id = K\naws_secret_access_key = S\n",
            "me",
        )
        .unwrap();
        assert_eq!(p.hops.len(), 1);
        assert_eq!(p.root.profile(), "me");
    }

    #[test]
    fn a_source_with_keys_and_role_arn_uses_its_keys() {
        let cfg = "[profile top]\nrole_arn = T\nsource_profile = mid\n[profile mid]\nrole_arn = M\nsource_profile = base\n[profile base]\n";
        let creds = "[mid]\naws_access_key_id = K\naws_secret_access_key = S\n";
        let p = plan_of(cfg, creds, "top").unwrap();
        assert_eq!(p.hops.len(), 1);
        assert_eq!(p.root.profile(), "mid");
    }

    #[test]
    fn botocore_validation_errors() {
        let both = "[profile r]\nrole_arn = R\nsource_profile = d\ncredential_source = Environment\n[profile d]\n";
        assert!(matches!(
            plan_of(both, "", "r"),
            Err(Error::SourceAndCredentialSource { .. })
        ));
        let neither = "[profile r]\nrole_arn = R\n";
        assert!(matches!(
            plan_of(neither, "", "r"),
            Err(Error::NoSource { .. })
        ));
        let missing = "[profile r]\nrole_arn = R\nsource_profile = nope\n[profile nop]\n";
        let err = plan_of(missing, "", "r").unwrap_err().to_string();
        assert!(
            err.contains("'nope'") && err.contains("'r'") && err.contains("'nop'"),
            "{err}"
        );
        let unknown = "[profile r]\nrole_arn = R\ncredential_source = Ec2Metadata\n";
        assert!(plan_of(unknown, "", "r")
            .unwrap_err()
            .to_string()
            .contains("is not one of Environment, Ec2InstanceMetadata, EcsContainer"));
    }

    #[test]
    fn half_a_key_pair_is_partial_credentials() {
        let cfg =
            "[profile r]\nrole_arn = R\nsource_profile = s\n[profile s]\naws_access_key_id = K\n";
        let err = plan_of(cfg, "", "r").unwrap_err().to_string();
        assert!(
            err.contains("partial credentials")
                && err.contains("aws_secret_access_key")
                && err.contains("'s'"),
            "{err}"
        );
        let err = plan_of("[profile s]\n", "[s]\naws_secret_access_key = S\n", "s")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("partial credentials") && err.contains("credentials"),
            "{err}"
        );
    }

    #[test]
    fn credentials_file_keys_beat_process_which_beats_config_keys() {
        let cfg = "[profile r]\nrole_arn = R\nsource_profile = s\n[profile s]\ncredential_process = cred\naws_access_key_id = C\naws_secret_access_key = C\n";
        let p = plan_of(cfg, "", "r").unwrap();
        assert!(matches!(p.root, Root::Process { .. }));
        let p = plan_of(
            cfg,
            "[s]\naws_access_key_id = K\naws_secret_access_key = S\n",
            "r",
        )
        .unwrap();
        assert!(
            matches!(p.root, Root::Keys { file_keys: Some(ref k), .. } if k.access_key_id == "K")
        );
    }

    #[test]
    fn region_comes_from_the_nearest_profile_up_the_chain() {
        let cfg = "[default]\nregion = d-region\n[profile a]\nrole_arn = A\nsource_profile = base\nregion = a-region\n[profile b]\nrole_arn = B\nsource_profile = a\n[profile base]\n";
        let config = AwsConfig::from_texts(cfg, "").unwrap();
        let inputs = PlanInputs {
            env_region: Some("env-region".into()),
            ..Default::default()
        };
        assert_eq!(
            plan(&config, "b", &inputs).unwrap().region.as_deref(),
            Some("a-region")
        );
        let cfg2 = cfg.replace("region = a-region\n", "");
        let config = AwsConfig::from_texts(&cfg2, "").unwrap();
        assert_eq!(
            plan(&config, "b", &inputs).unwrap().region.as_deref(),
            Some("env-region")
        );
        assert_eq!(
            plan(&config, "b", &PlanInputs::default())
                .unwrap()
                .region
                .as_deref(),
            Some("d-region")
        );
    }

    #[test]
    fn endpoint_variables_beat_endpoint_url() {
        let cfg = "[profile a]\nrole_arn = A\ncredential_source = Environment\nendpoint_url = http://profile\n";
        let config = AwsConfig::from_texts(cfg, "").unwrap();
        let p = plan(&config, "a", &PlanInputs::default()).unwrap();
        assert_eq!(p.endpoint.as_deref(), Some("http://profile"));
        let inputs = PlanInputs {
            env_endpoint: Some("http://env".into()),
            ..Default::default()
        };
        assert_eq!(
            plan(&config, "a", &inputs).unwrap().endpoint.as_deref(),
            Some("http://env")
        );
    }

    #[test]
    fn chained_hops_are_capped_with_a_notice() {
        let cfg = SEED.replace(
            "source_profile = role-a\n",
            "source_profile = role-a\nduration_seconds = 2h\n",
        );
        let p = plan_of(&cfg, SEED_CREDS, "role-b").unwrap();
        assert_eq!(p.hops[1].duration, Some(3600));
        assert_eq!(p.hops[1].capped_from, Some(7200));
        assert_eq!(p.notices().len(), 1);
        assert!(p.notices()[0].contains("role-b"));
    }

    #[test]
    fn a_long_first_hop_takes_mfa_directly_instead_of_a_session() {
        let config = AwsConfig::from_texts(SEED, SEED_CREDS).unwrap();
        let inputs = PlanInputs {
            duration: Some(4 * 3600),
            ..Default::default()
        };
        let p = plan(&config, "role-a", &inputs).unwrap();
        assert!(p.mfa_session.is_none());
        assert!(p.hops[0].mfa.is_some());
        assert_eq!(p.hops[0].duration, Some(4 * 3600));
        assert!(p.notices().is_empty());
    }

    #[test]
    fn bad_duration_setting_names_file_and_line() {
        let cfg =
            "[profile a]\nrole_arn = A\ncredential_source = Environment\nduration_seconds = soon\n";
        let err = plan_of(cfg, "", "a").unwrap_err().to_string();
        assert!(err.starts_with("config:4:") && err.contains("'a'"), "{err}");
    }

    #[test]
    fn mfa_strategy_table() {
        use SourceKind::*;
        // (first hop?, source, duration asked, mfa_serial?) →
        // (GetSessionToken first?, MFA on AssumeRole?, duration sent, capped?)
        type Row = (
            bool,
            SourceKind,
            Option<u32>,
            bool,
            bool,
            bool,
            Option<u32>,
            bool,
        );
        #[rustfmt::skip]
        let table: &[Row] = &[
            // First hop from long-term keys, MFA: share one MFA session…
            (true,  LongTerm, None,        true,  true,  false, None,        false),
            (true,  LongTerm, Some(900),   true,  true,  false, Some(900),   false),
            (true,  LongTerm, Some(3600),  true,  true,  false, Some(3600),  false),
            // …unless the role asks for more than an hour: MFA on the AssumeRole itself.
            (true,  LongTerm, Some(3601),  true,  false, true,  Some(3601),  false),
            (true,  LongTerm, Some(43200), true,  false, true,  Some(43200), false),
            // First hop from long-term keys, no MFA: not chained, any duration passes.
            (true,  LongTerm, None,        false, false, false, None,        false),
            (true,  LongTerm, Some(43200), false, false, false, Some(43200), false),
            // First hop from a session (env/process/session keys): chained, MFA direct.
            (true,  Session,  None,        true,  false, true,  None,        false),
            (true,  Session,  Some(7200),  true,  false, true,  Some(3600),  true),
            (true,  Session,  Some(7200),  false, false, false, Some(3600),  true),
            (true,  Session,  Some(1800),  false, false, false, Some(1800),  false),
            // Later hops come from a role session: always chained, MFA direct.
            (false, Session,  None,        false, false, false, None,        false),
            (false, Session,  Some(3600),  false, false, false, Some(3600),  false),
            (false, Session,  Some(7200),  false, false, false, Some(3600),  true),
            (false, Session,  None,        true,  false, true,  None,        false),
            (false, Session,  Some(7200),  true,  false, true,  Some(3600),  true),
        ];
        for &(first, source, asked, mfa, gst, on_assume, sent, capped) in table {
            let got = decide_hop(first, source, asked, mfa);
            let want = HopCall {
                session_token_first: gst,
                mfa_on_assume: on_assume,
                duration: sent,
                capped,
            };
            assert_eq!(
                got, want,
                "first={first} source={source:?} asked={asked:?} mfa={mfa}"
            );
        }
    }

    #[test]
    fn a_plain_keys_profile_with_mfa_opens_an_mfa_session() {
        let cfg = "[profile u]\nmfa_serial = arn:aws:iam::1:mfa/u\n";
        let p = plan_of(
            cfg,
            "[u]\naws_access_key_id = K\naws_secret_access_key = S\n",
            "u",
        )
        .unwrap();
        assert!(p.hops.is_empty());
        assert!(p.needs_mfa());
        // Eight hours: one code serves a working day.
        assert_eq!(p.mfa_session.unwrap().duration, 28_800);
    }

    #[test]
    fn mfa_is_needed_for_a_session_or_on_a_hop_and_only_then() {
        let session = plan_of(SEED, SEED_CREDS, "role-e").unwrap();
        assert!(session.mfa_session.is_some() && session.hops.iter().all(|h| h.mfa.is_none()));
        assert!(session.needs_mfa());
        let config = AwsConfig::from_texts(SEED, SEED_CREDS).unwrap();
        let long = PlanInputs {
            duration: Some(4 * 3600),
            ..Default::default()
        };
        let on_hop = plan(&config, "role-a", &long).unwrap();
        assert!(on_hop.mfa_session.is_none() && on_hop.hops[0].mfa.is_some());
        assert!(on_hop.needs_mfa());
        let without = SEED.replace("mfa_serial = arn:aws:iam::222222222222:mfa/User1\n", "");
        assert!(!plan_of(&without, SEED_CREDS, "role-e").unwrap().needs_mfa());
    }

    #[test]
    fn a_chain_of_max_chain_roles_plans_and_one_more_is_refused() {
        let chain = |roles: usize| {
            let mut cfg = String::from("[profile base]\n");
            for i in 1..=roles {
                let source = if i == 1 {
                    "base".to_string()
                } else {
                    format!("r{}", i - 1)
                };
                cfg.push_str(&format!(
                    "[profile r{i}]\nrole_arn = arn:aws:iam::1:role/R{i}\nsource_profile = {source}\n"
                ));
            }
            plan_of(&cfg, "", &format!("r{roles}"))
        };
        assert_eq!(chain(MAX_CHAIN).unwrap().hops.len(), MAX_CHAIN);
        let err = chain(MAX_CHAIN + 1).unwrap_err().to_string();
        assert!(err.contains("longer than 128 roles"), "{err}");
    }

    #[test]
    fn one_key_of_a_pair_makes_a_source_a_keys_root_as_in_botocore() {
        // botocore counts either key as static credentials: the role_arn of the source
        // is not followed, and the half pair is reported.
        for key in ["aws_access_key_id", "aws_secret_access_key"] {
            let cfg = format!(
                "[profile r]\nrole_arn = R\nsource_profile = s\n[profile s]\nrole_arn = S\nsource_profile = base\n{key} = K\n[profile base]\n"
            );
            let err = plan_of(&cfg, "", "r").unwrap_err().to_string();
            assert!(
                err.contains("partial credentials") && err.contains(key),
                "{err}"
            );
        }
    }

    #[test]
    fn plan_inputs_come_from_the_aws_variables_skipping_empty_ones() {
        const NAME: &str =
            "chain::plan::tests::plan_inputs_come_from_the_aws_variables_skipping_empty_ones";
        if crate::sys::test_child::is_child(NAME) {
            let i = PlanInputs::from_env(Some(900));
            let answer = format!("{:?}|{:?}|{:?}", i.duration, i.env_region, i.env_endpoint);
            return crate::sys::test_child::answer(&answer);
        }
        let run = |vars: &[(&str, &str)]| crate::sys::test_child::run(NAME, &[], vars).0;
        assert_eq!(run(&[]), "Some(900)|None|None");
        let first = [
            ("AWS_REGION", "r1"),
            ("AWS_DEFAULT_REGION", "r2"),
            ("AWS_ENDPOINT_URL_STS", "http://sts"),
            ("AWS_ENDPOINT_URL", "http://all"),
        ];
        assert_eq!(run(&first), r#"Some(900)|Some("r1")|Some("http://sts")"#);
        let empty_first = [
            ("AWS_REGION", ""),
            ("AWS_DEFAULT_REGION", "r2"),
            ("AWS_ENDPOINT_URL_STS", ""),
            ("AWS_ENDPOINT_URL", "http://all"),
        ];
        assert_eq!(
            run(&empty_first),
            r#"Some(900)|Some("r2")|Some("http://all")"#
        );
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let p = plan_of(SEED, SEED_CREDS, "role-a").unwrap();
        let dump = format!("{p:?}");
        assert!(
            dump.contains("AKIDEXAMPLE") && !dump.contains("secret"),
            "{dump}"
        );
    }

    const SSO: &str = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access, sso:extra\n\n\
        [profile sso-dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = eu-central-1\n\n\
        [profile role-x]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = sso-dev\nduration_seconds = 7200\n\n\
        [profile role-y]\nrole_arn = arn:aws:iam::222222222222:role/Y\nsource_profile = role-x\n\n\
        [profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n";

    #[test]
    fn an_sso_root_under_a_chain_is_chained_and_inherits_the_region() {
        let p = plan_of(SSO, "", "role-y").unwrap();
        let Root::Sso { profile, sso } = &p.root else {
            panic!("{:?}", p.root)
        };
        assert_eq!(profile, "sso-dev");
        assert_eq!(sso.session.as_deref(), Some("corp"));
        assert_eq!(sso.start_url, "https://corp.awsapps.com/start");
        assert_eq!(
            (sso.account_id.as_str(), sso.role_name.as_str()),
            ("123456789012", "Admin")
        );
        assert_eq!(sso.scopes, ["sso:account:access", "sso:extra"]);
        assert_eq!(sso.token_key(), "corp");
        assert_eq!(p.chain_names(), ["role-y", "role-x", "sso-dev"]);
        // Role credentials are a session: the first hop is chained, capped at an hour.
        assert_eq!(p.hops[0].duration, Some(3600));
        assert_eq!(p.hops[0].capped_from, Some(7200));
        assert!(!p.needs_mfa());
        assert_eq!(p.region.as_deref(), Some("eu-central-1"));
        assert_eq!(p.account(), Some("222222222222"));
        let root_only = plan_of(SSO, "", "sso-dev").unwrap();
        assert!(root_only.hops.is_empty());
        assert_eq!(root_only.account(), Some("123456789012"));
    }

    #[test]
    fn legacy_sso_profiles_use_the_start_url_and_no_scopes() {
        let p = plan_of(SSO, "", "legacy").unwrap();
        let Root::Sso { sso, .. } = &p.root else {
            panic!()
        };
        assert_eq!(sso.session, None);
        assert_eq!(sso.token_key(), "https://legacy.awsapps.com/start");
        assert!(sso.scopes.is_empty());
        assert_eq!(sso.login_command("legacy"), "awsrole sso login legacy");
        let with_space = SsoRoot {
            session: Some("my org".into()),
            ..sso.clone()
        };
        assert_eq!(
            with_space.login_command("x"),
            "awsrole sso login --sso-session 'my org'"
        );
    }

    #[test]
    fn sso_config_errors_follow_botocore() {
        let err = |extra: &str, target: &str| {
            plan_of(&format!("{SSO}{extra}"), "", target)
                .unwrap_err()
                .to_string()
        };
        // Either key makes an SSO root; then every one is needed.
        let e = err("[profile p]\nsso_role_name = R\n", "p");
        assert!(
            e.contains("missing sso_start_url, sso_region, sso_account_id"),
            "{e}"
        );
        let e = err("[profile p]\nsso_session = corp\nsso_account_id = 1\n", "p");
        assert!(
            e.contains("missing sso_role_name") && e.contains("[sso-session corp]"),
            "{e}"
        );
        let e = err("[profile p]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\nsso_start_url = https://other/start\n", "p");
        assert!(e.contains("sso_start_url is 'https://other/start' in the profile but 'https://corp.awsapps.com/start'"), "{e}");
        let e = err(
            "[profile p]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = R\n",
            "p",
        );
        assert!(
            e.contains("its sso_session 'nope' has no [sso-session nope] section"),
            "{e}"
        );
        let e = err("[profile p]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\ncredential_process = x\n", "p");
        assert!(
            e.contains("mixes IAM Identity Center") && e.contains("credential_process"),
            "{e}"
        );
        let e = err("[profile p]\nrole_arn = arn:aws:iam::1:role/P\ncredential_source = Environment\nsso_account_id = 1\n", "p");
        assert!(
            e.contains("mixes credential_source with IAM Identity Center"),
            "{e}"
        );
        // A key repeated with the same value is fine; sso_start_url alone is no root.
        assert!(plan_of(&format!("{SSO}[profile p]\nsso_session = corp\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n"), "", "p").is_ok());
        let p = plan_of(
            &format!("{SSO}[profile p]\nsso_start_url = https://x/start\n"),
            "",
            "p",
        )
        .unwrap();
        assert!(matches!(
            p.root,
            Root::Keys {
                file_keys: None,
                ..
            }
        ));
    }
}
