//! Which IANA zone rules the clock uses, and whether the system has newer ones.
//!
//! The rules are compiled in (chrono-tz) so that a deadline is the same on every replica
//! whatever its operating system has installed. Governments change their rules several
//! times a year, so the version in use is reported (`/readyz`, `escalator_build_info`) next
//! to the system's, and a newer system version is worth a warning: it means an Escalator
//! release with those rules is due.

/// The version of the zone rules deadlines are computed with, e.g. `2025b`.
pub const TZ_RULES_VERSION: &str = chrono_tz::IANA_TZDB_VERSION;

/// The version named in the first line of a `tzdata.zi` file (`# version 2025b`).
pub fn tzdata_version(zi: &str) -> Option<&str> {
    let version = zi.lines().next()?.strip_prefix("# version ")?.trim();
    is_version(version).then_some(version)
}

/// Whether `text` looks like a tz database version: a year and a release letter.
fn is_version(text: &str) -> bool {
    let (year, letter) = text.split_at(text.len().min(4));
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && !letter.is_empty()
        && letter.bytes().all(|b| b.is_ascii_lowercase())
}

/// Whether version `a` is newer than `b` (`2026a` > `2025z` > `2025b`).
pub fn is_newer(a: &str, b: &str) -> bool {
    let key = |v: &str| {
        let (year, letter) = v.split_at(v.len().min(4));
        (year.to_string(), letter.len(), letter.to_string())
    };
    key(a) > key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_and_compared() {
        assert_eq!(
            tzdata_version("# version 2025b\n# This zic input file …"),
            Some("2025b")
        );
        assert_eq!(tzdata_version("# version 2025\n"), None);
        assert_eq!(tzdata_version("Rule EU 1981 max"), None);
        assert!(is_newer("2026a", "2025b"));
        assert!(is_newer("2025c", "2025b"));
        assert!(!is_newer("2025b", "2025b"));
        assert!(!is_newer("2024z", "2025a"));
        assert!(is_version(TZ_RULES_VERSION), "{TZ_RULES_VERSION}");
    }
}
