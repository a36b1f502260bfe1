//! Times in org files are written relative to the moment the file is loaded ("-3d"), so one
//! file describes the same situation (in grace, due, ...) whenever a test runs. Absolute RFC 3339
//! dates are accepted too, so the state the emulator serializes can be loaded back.
//!
//! Every time the emulator holds is whole seconds: IAM reports seconds, and tests can compare what
//! the SDK parsed with what the emulator stored without rounding.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Deserializer};

/// The current time, truncated to whole seconds.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Parses `-<N><unit>` (units `s`, `m`, `h`, `d`, `w`; `-0s` is now) or an RFC 3339 date.
pub fn parse(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(absolute) = DateTime::parse_from_rfc3339(text) {
        return Ok(absolute.with_timezone(&Utc).trunc_subsecs(0));
    }
    let invalid = || {
        format!(
            "invalid time {text:?}: expected a time before now such as \"-3d\", \"-90m\" or \"-45s\" \
             (units s, m, h, d, w) or an RFC 3339 date such as \"2025-03-15T10:23:45Z\""
        )
    };
    let ago = text.strip_prefix('-').ok_or_else(invalid)?;
    let unit_at = ago.len().checked_sub(1).ok_or_else(invalid)?;
    let (amount, unit) = ago.split_at(unit_at);
    let amount: i64 = amount.parse().map_err(|_| invalid())?;
    let span = match unit {
        "s" => Duration::try_seconds(amount),
        "m" => Duration::try_minutes(amount),
        "h" => Duration::try_hours(amount),
        "d" => Duration::try_days(amount),
        "w" => Duration::try_weeks(amount),
        _ => None,
    }
    .ok_or_else(invalid)?;
    now.checked_sub_signed(span).ok_or_else(invalid)
}

/// `#[serde(deserialize_with = "time::relative")]` for a required time.
pub fn relative<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text, now()).map_err(serde::de::Error::custom)
}

/// `#[serde(default, deserialize_with = "time::relative_option")]` for an optional time.
pub fn relative_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| parse(&text, now()).map_err(serde::de::Error::custom))
        .transpose()
}

/// The default for times an org file may leave out: a year ago.
pub fn a_year_ago() -> DateTime<Utc> {
    now() - Duration::days(365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_count_back_from_now() {
        let now = DateTime::parse_from_rfc3339("2025-03-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse("-3d", now).unwrap(), now - Duration::days(3));
        assert_eq!(parse("-90m", now).unwrap(), now - Duration::minutes(90));
        assert_eq!(parse("-0s", now).unwrap(), now);
        assert_eq!(
            parse("2025-01-01T00:00:00Z", now).unwrap().to_rfc3339(),
            "2025-01-01T00:00:00+00:00"
        );
        for bad in ["3d", "-d", "-3y", "", "-", "yesterday"] {
            assert!(
                parse(bad, now).unwrap_err().contains("invalid time"),
                "{bad}"
            );
        }
    }
}
