//! `login_session = <ARN>` written into one profile of the config's text, as `aws
//! login` does, leaving every other byte as it was. Pure: the caller reads and writes.

/// What setting the key does to the text.
#[derive(Debug, PartialEq)]
pub enum Edit {
    /// The profile already says so.
    Unchanged,
    /// The new text; `replaced` is the value it had, when it had another.
    Changed {
        text: String,
        replaced: Option<String>,
    },
}

/// Whether a section header (`[profile NAME]`, `[default]`, `[profile default]`) is
/// the profile's.
fn is_profile_header(line: &str, profile: &str) -> bool {
    let Some(inner) = line
        .trim()
        .strip_prefix('[')
        .and_then(|l| l.split(']').next())
    else {
        return false;
    };
    let words: Vec<&str> = inner.split_whitespace().collect();
    match words.as_slice() {
        ["profile", name] => *name == profile,
        ["default"] => profile == "default",
        _ => false,
    }
}

/// `key = value` in `profile`'s section (the last one, where a section is repeated,
/// as botocore merges them), else a new line after the first header, else a new
/// section at the end.
pub fn set(text: &str, profile: &str, key: &str, value: &str) -> Edit {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut in_section = false;
    let mut first_header = None;
    let mut found = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_section = is_profile_header(line, profile);
            if in_section && first_header.is_none() {
                first_header = Some(i);
            }
            continue;
        }
        // Indented lines belong to a sub-section (`s3 =` + indented keys).
        if !in_section || line.starts_with([' ', '\t']) {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == key {
                found = Some((i, v.trim().to_string()));
            }
        }
    }
    let setting = format!("{key} = {value}");
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let replaced = match (found, first_header) {
        (Some((_, old)), _) if old == value => return Edit::Unchanged,
        (Some((i, old)), _) => {
            let ending = if lines[i].ends_with("\r\n") {
                "\r\n"
            } else if lines[i].ends_with('\n') {
                "\n"
            } else {
                ""
            };
            out[i] = format!("{setting}{ending}");
            Some(old)
        }
        (None, Some(h)) => {
            if !out[h].ends_with('\n') {
                out[h].push_str(newline);
            }
            out.insert(h + 1, format!("{setting}{newline}"));
            None
        }
        (None, None) => {
            let header = if profile == "default" {
                "[default]".to_string()
            } else {
                format!("[profile {profile}]")
            };
            let mut tail = String::new();
            if !text.is_empty() && !text.ends_with('\n') {
                tail.push_str(newline);
            }
            if !text.is_empty() {
                tail.push_str(newline);
            }
            tail.push_str(&format!("{header}{newline}{setting}{newline}"));
            out.push(tail);
            None
        }
    };
    Edit::Changed {
        text: out.concat(),
        replaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:iam::123456789012:user/alice";

    fn changed(edit: Edit) -> (String, Option<String>) {
        match edit {
            Edit::Changed { text, replaced } => (text, replaced),
            Edit::Unchanged => panic!("unchanged"),
        }
    }

    #[test]
    fn a_new_key_goes_under_the_profiles_header_and_nothing_else_moves() {
        let text = "# mine\n[default]\nregion = eu-west-1\n\n[profile dev]  # work\nregion = us-east-1\ns3 =\n  login_session = nested\n[profile other]\nlogin_session = x\n";
        let (new, replaced) = changed(set(text, "dev", "login_session", ARN));
        assert_eq!(replaced, None);
        assert_eq!(
            new,
            text.replace(
                "[profile dev]  # work\n",
                &format!("[profile dev]  # work\nlogin_session = {ARN}\n")
            )
        );
    }

    #[test]
    fn another_value_is_replaced_on_its_line_and_the_same_value_is_left_alone() {
        let text = "[profile dev]\r\nlogin_session=arn:old\r\nregion = eu-west-1";
        let (new, replaced) = changed(set(text, "dev", "login_session", ARN));
        assert_eq!(replaced.as_deref(), Some("arn:old"));
        assert_eq!(
            new,
            format!("[profile dev]\r\nlogin_session = {ARN}\r\nregion = eu-west-1")
        );
        assert_eq!(set(&new, "dev", "login_session", ARN), Edit::Unchanged);
    }

    #[test]
    fn a_missing_profile_is_appended_and_default_has_its_own_header() {
        let (new, _) = changed(set("[profile a]\nregion = x", "dev", "login_session", ARN));
        assert_eq!(
            new,
            format!("[profile a]\nregion = x\n\n[profile dev]\nlogin_session = {ARN}\n")
        );
        let (new, _) = changed(set("", "default", "login_session", ARN));
        assert_eq!(new, format!("[default]\nlogin_session = {ARN}\n"));
        let (new, _) = changed(set("[default]\n", "default", "login_session", ARN));
        assert_eq!(new, format!("[default]\nlogin_session = {ARN}\n"));
    }
}
