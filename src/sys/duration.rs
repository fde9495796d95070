//! `15m`, `1h`, `1h30m`, `3600`: the durations `--duration` and `duration_seconds` take.

/// STS's own bounds for AssumeRole: 15 minutes to 12 hours.
pub const MIN_SECONDS: u32 = 900;
pub const MAX_SECONDS: u32 = 43_200;

pub fn parse_duration(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let bad =
        || format!("'{text}' is not a duration; write seconds (3600) or units (15m, 1h, 1h30m)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let scale = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(scale));
        number.clear();
    }
    if !number.is_empty() {
        total = total.saturating_add(number.parse::<u64>().map_err(|_| bad())?);
    }
    if !(MIN_SECONDS as u64..=MAX_SECONDS as u64).contains(&total) {
        return Err(format!(
            "{text} is outside what STS accepts: from 15m (900) to 12h (43200)"
        ));
    }
    Ok(total as u32)
}

/// `42m`, `3h05m`, `15s` for prompts and listings.
pub fn short(seconds: i64) -> String {
    if seconds >= 3600 {
        format!("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60)
    } else if seconds >= 60 {
        format!("{}m", seconds / 60)
    } else {
        format!("{}s", seconds.max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_plain_seconds() {
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("3600"), Ok(3600));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration(" 2h "), Ok(7200));
    }

    #[test]
    fn outside_sts_bounds_or_junk_is_refused() {
        assert!(parse_duration("10m").unwrap_err().contains("15m"));
        assert!(parse_duration("13h").is_err());
        assert!(parse_duration("soon").unwrap_err().contains("'soon'"));
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn short_forms() {
        assert_eq!(short(42 * 60 + 5), "42m");
        assert_eq!(short(3 * 3600 + 5 * 60), "3h05m");
        assert_eq!(short(12), "12s");
        assert_eq!(short(-5), "0s");
    }
}
