//! RFC 3339 timestamps from epoch seconds, for the config's `created` fields.

/// Format `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC); times after
/// 9999-12-31T23:59:59Z (the last RFC 3339 can write) are written as that.
pub fn rfc3339(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX).min(LAST_RFC3339);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "9999-12-31T23:59:59Z".to_owned())
}

/// 9999-12-31T23:59:59Z in Unix seconds.
const LAST_RFC3339: i64 = 253_402_300_799;

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
    }
}
