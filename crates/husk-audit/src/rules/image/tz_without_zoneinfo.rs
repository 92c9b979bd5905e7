//! HUSK-I025: `TZ` names a zone whose zoneinfo file is not in the image.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct TzWithoutZoneinfo;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I025",
    name: "tz-without-zoneinfo",
    target: Target::Image,
    severity: Severity::Medium,
    summary: "TZ names a time zone that the image has no zoneinfo file for",
    explanation: "C libraries and most runtimes read `TZ=Europe/Paris` from `/usr/share/zoneinfo/Europe/Paris` (Go also from `ZONEINFO` or its embedded copy when built with `-tags timetzdata`). Without the file, glibc silently uses UTC, Go's `time.LoadLocation` fails, and Java falls back to GMT: logs and schedules are off by hours without any error at start.",
    fix: "Add the zoneinfo files (husk build `--tzdata`), or set `TZ` to a POSIX rule (`CET-1CEST,M3.5.0,M10.5.0/3`), or drop `TZ`.",
    references: &[],
};

impl Rule for TzWithoutZoneinfo {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some(tz) = image.env("TZ") else { return };
        let name = tz.strip_prefix(':').unwrap_or(&tz).trim();
        // POSIX rules (`EST5EDT`, `UTC0`) carry digits; UTC needs no file at all.
        let posix =
            name.contains(',') || (name.bytes().any(|b| b.is_ascii_digit()) && !name.contains('/'));
        if name.is_empty() || posix || matches!(name, "UTC" | "GMT" | "Etc/UTC" | "Etc/GMT") {
            return;
        }
        let file = if name.starts_with('/') {
            name.to_owned()
        } else {
            let dir = image
                .env("TZDIR")
                .unwrap_or_else(|| "/usr/share/zoneinfo".to_owned());
            format!("{}/{name}", dir.trim_end_matches('/'))
        };
        if !image.is_file(&file) {
            out.image(format!(
                "TZ={tz} but the image has no {file}: times will silently be UTC"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_without_the_zone_file() {
        let f = Fake::new().env("TZ=Europe/Paris").facts();
        assert_eq!(run_image(&TzWithoutZoneinfo, &f).len(), 1);
        let f = Fake::new().env("TZ=:/etc/localtime").facts();
        assert_eq!(run_image(&TzWithoutZoneinfo, &f).len(), 1);
    }

    #[test]
    fn quiet_with_the_file_a_posix_rule_or_utc() {
        let f = Fake::new()
            .file("/usr/share/zoneinfo/Europe/Paris", b"TZif")
            .env("TZ=Europe/Paris")
            .facts();
        assert!(run_image(&TzWithoutZoneinfo, &f).is_empty());
        for tz in [
            "TZ=UTC",
            "TZ=CET-1CEST,M3.5.0,M10.5.0/3",
            "TZ=EST5EDT",
            "TZ=",
        ] {
            let f = Fake::new().env(tz).facts();
            assert!(run_image(&TzWithoutZoneinfo, &f).is_empty(), "{tz}");
        }
    }
}
