//! The coverage map of other Dockerfile linters: every hadolint DL rule and every
//! BuildKit build check, with the husk rules that carry it in their references (found in
//! the registry, so a new rule that names one shows up by itself) or, for the rest, why
//! husk has none. Rendered into `docs/rules/MAPPING.md` by [`crate::docs::files`].

use std::fmt::Write;

use crate::registry::RULES;
use crate::rule::Reference;

/// Every hadolint 2.15.1 DL rule (its README's table): code, what it checks, and why husk has no rule for it when
/// none references it.
pub const HADOLINT: &[(&str, &str, &str)] = &[
    (
        "DL1001",
        "Refrain from inline ignore pragmas",
        "a policy about pragmas: husk honours `# hadolint ignore=` and `# husk ignore=` instead",
    ),
    ("DL3000", "Use absolute WORKDIR", ""),
    (
        "DL3001",
        "Commands that make no sense in a container (ssh, vim, shutdown...)",
        "not covered: a list of taste (which tools make sense depends on the image)",
    ),
    ("DL3002", "Last USER should not be root", ""),
    (
        "DL3003",
        "Use WORKDIR to switch to a directory",
        "RUN analysis (`cd` vs WORKDIR)",
    ),
    ("DL3004", "Do not use sudo", ""),
    (
        "DL3006",
        "Always tag the version of an image explicitly",
        "",
    ),
    ("DL3007", "Using latest is prone to errors", ""),
    (
        "DL3008",
        "Pin versions in apt-get install",
        "package pinning",
    ),
    (
        "DL3009",
        "Delete the apt-get lists after installing something",
        "",
    ),
    (
        "DL3010",
        "Use ADD for extracting archives into an image",
        "not covered on purpose: HUSK-D005 already accepts ADD of local archives, and COPY plus an explicit extraction is as good",
    ),
    ("DL3011", "Valid UNIX ports range from 0 to 65535", ""),
    ("DL3012", "Multiple HEALTHCHECK instructions", ""),
    ("DL3013", "Pin versions in pip", "package pinning"),
    (
        "DL3014",
        "Use the -y switch (apt-get)",
        "RUN analysis (a missing -y fails the build anyway)",
    ),
    (
        "DL3015",
        "Avoid additional packages: --no-install-recommends",
        "",
    ),
    ("DL3016", "Pin versions in npm", "package pinning"),
    ("DL3018", "Pin versions in apk add", "package pinning"),
    ("DL3019", "Use the --no-cache switch (apk)", ""),
    (
        "DL3020",
        "Use COPY instead of ADD for files and folders",
        "",
    ),
    (
        "DL3021",
        "COPY with more than 2 arguments requires the last argument to end with /",
        "not covered: BuildKit refuses such a COPY with a clear error",
    ),
    (
        "DL3022",
        "COPY --from should reference a previously defined FROM alias",
        "",
    ),
    (
        "DL3023",
        "COPY --from cannot reference its own FROM alias",
        "not covered: BuildKit reports the circular dependency",
    ),
    ("DL3024", "FROM aliases (stage names) must be unique", ""),
    (
        "DL3025",
        "Use arguments JSON notation for CMD and ENTRYPOINT",
        "",
    ),
    (
        "DL3026",
        "Use only an allowed registry in the FROM image",
        "",
    ),
    (
        "DL3027",
        "Do not use apt, use apt-get or apt-cache",
        "RUN analysis",
    ),
    ("DL3028", "Pin versions in gem install", "package pinning"),
    ("DL3029", "Do not use --platform flag with FROM", ""),
    ("DL3030", "Use the -y switch (yum)", "RUN analysis"),
    ("DL3032", "yum clean all missing", "package hygiene"),
    (
        "DL3033",
        "Specify version with yum install",
        "package pinning",
    ),
    (
        "DL3034",
        "Non-interactive switch missing from zypper",
        "RUN analysis",
    ),
    (
        "DL3035",
        "Do not use zypper dist-upgrade",
        "package hygiene",
    ),
    ("DL3036", "zypper clean missing", "package hygiene"),
    (
        "DL3037",
        "Specify version with zypper install",
        "package pinning",
    ),
    ("DL3038", "Use the -y switch (dnf)", "RUN analysis"),
    ("DL3040", "dnf clean all missing", "package hygiene"),
    (
        "DL3041",
        "Specify version with dnf install",
        "package pinning",
    ),
    (
        "DL3042",
        "Avoid cache directory with pip install --no-cache-dir",
        "package hygiene",
    ),
    (
        "DL3043",
        "ONBUILD, FROM or MAINTAINER triggered from within ONBUILD",
        "not covered: BuildKit refuses them in ONBUILD",
    ),
    (
        "DL3044",
        "Do not refer to an environment variable within the same ENV statement",
        "not covered yet: HUSK-D031 (UndefinedVar) reports it when nothing earlier defines the variable",
    ),
    (
        "DL3045",
        "COPY to a relative destination without WORKDIR set",
        "",
    ),
    (
        "DL3046",
        "useradd without -l and a high UID",
        "RUN analysis (`useradd --no-log-init`)",
    ),
    (
        "DL3047",
        "wget without --progress bloats build logs",
        "not covered: log noise, not an image property",
    ),
    (
        "DL3048",
        "Invalid label key",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3049",
        "Label is missing",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3050",
        "Superfluous labels present",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3051",
        "Label is empty",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3052",
        "Label is not a valid URL",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3053",
        "Label is not a valid RFC 3339 time",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3054",
        "Label is not a valid SPDX license identifier",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3055",
        "Label is not a valid git hash",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3056",
        "Label does not conform to semantic versioning",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3057",
        "HEALTHCHECK instruction missing",
        "covered for images by HUSK-I018 (`husk audit`), where the inherited config is known",
    ),
    (
        "DL3058",
        "Label is not a valid RFC 5322 email",
        "not covered: label schemas are a policy husk does not configure",
    ),
    (
        "DL3059",
        "Multiple consecutive RUN instructions",
        "not covered on purpose: separate RUNs cache better and BuildKit's layers cost little",
    ),
    (
        "DL3060",
        "yarn cache clean missing after yarn install",
        "package hygiene",
    ),
    (
        "DL3061",
        "Dockerfile must begin with FROM, ARG or a comment",
        "a parse error in husk (and BuildKit)",
    ),
    ("DL3062", "Pin versions in go install", "package pinning"),
    ("DL3063", "Stage name should not be a reserved word", ""),
    ("DL3064", "Sensitive data in ARG or ENV", ""),
    ("DL3065", "FROM --platform=$TARGETPLATFORM is redundant", ""),
    (
        "DL3066",
        "Non-numeric user id may not be resolvable",
        "covered for images by HUSK-I002, where the image's passwd is known",
    ),
    (
        "DL3067",
        "Do not copy an entire filesystem from another stage",
        "",
    ),
    ("DL4000", "MAINTAINER is deprecated", ""),
    (
        "DL4001",
        "Either use wget or curl, not both",
        "RUN analysis",
    ),
    ("DL4003", "Multiple CMD instructions", ""),
    ("DL4004", "Multiple ENTRYPOINT instructions", ""),
    (
        "DL4005",
        "Use SHELL to change the default shell",
        "RUN analysis",
    ),
    ("DL4006", "Set -o pipefail before RUN with a pipe", ""),
];

/// Every BuildKit build check (docs.docker.com/reference/build-checks).
pub const BUILDKIT: &[(&str, &str)] = &[
    ("StageNameCasing", "Stage names should be lowercase"),
    (
        "FromAsCasing",
        "The AS keyword should match the case of FROM",
    ),
    (
        "NoEmptyContinuation",
        "Empty continuation lines will become errors",
    ),
    (
        "ConsistentInstructionCasing",
        "Instructions should be in consistent casing",
    ),
    ("DuplicateStageName", "Stage names should be unique"),
    (
        "ReservedStageName",
        "Reserved words should not be stage names",
    ),
    (
        "JSONArgsRecommended",
        "JSON arguments recommended for ENTRYPOINT/CMD",
    ),
    ("MaintainerDeprecated", "MAINTAINER is deprecated"),
    ("UndefinedArgInFrom", "FROM must use declared ARGs"),
    (
        "WorkdirRelativePath",
        "Relative WORKDIR without an absolute one",
    ),
    (
        "UndefinedVar",
        "Variables should be defined before their use",
    ),
    (
        "MultipleInstructionsDisallowed",
        "One CMD/ENTRYPOINT/HEALTHCHECK per stage",
    ),
    (
        "LegacyKeyValueFormat",
        "Legacy key/value format with whitespace",
    ),
    (
        "RedundantTargetPlatform",
        "--platform=$TARGETPLATFORM is redundant",
    ),
    ("SecretsUsedInArgOrEnv", "Sensitive data in ARG or ENV"),
    (
        "InvalidDefaultArgInFrom",
        "ARG defaults make an invalid base image",
    ),
    (
        "FromPlatformFlagConstDisallowed",
        "FROM --platform should not be a constant",
    ),
    ("ExposeProtoCasing", "EXPOSE protocol should be lowercase"),
    (
        "ExposeInvalidFormat",
        "EXPOSE should not define an IP or host port",
    ),
    (
        "InvalidDefinitionDescription",
        "Description comments should start with the name",
    ),
    (
        "CopyIgnoredFile",
        "COPY of a file excluded by .dockerignore",
    ),
];

/// The ids of the rules that carry `pick` in their references.
fn covering(pick: impl Fn(&Reference) -> bool) -> Vec<&'static str> {
    RULES
        .iter()
        .map(|r| r.info())
        .filter(|i| i.references.iter().any(&pick))
        .map(|i| i.id)
        .collect()
}

fn links(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("[{id}]({id}.md)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The mapping page.
#[must_use]
pub fn page() -> String {
    let mut s = String::from("# Mapping: hadolint and BuildKit checks to husk rules\n\n");
    s.push_str("*Generated from the rule registry by `HUSK_UPDATE_DOCS=1 cargo test -p husk-audit --test docs`; do not edit.*\n\n");
    s.push_str("A rule covers a check when it names it in its references; `# hadolint ignore=DLxxxx`, `# check=skip=Name`, `--ignore` and the lint config accept those names too.\n\n");
    s.push_str("## hadolint\n\n| hadolint | checks | husk |\n|---|---|---|\n");
    let mut covered = 0;
    for (code, what, why) in HADOLINT {
        let ids = covering(|r| matches!(r, Reference::Hadolint(c) if c == code));
        if !ids.is_empty() {
            covered += 1;
        }
        let cell = if ids.is_empty() {
            (*why).to_owned()
        } else {
            links(&ids)
        };
        let _ = writeln!(s, "| {code} | {what} | {cell} |");
    }
    let _ = writeln!(
        s,
        "\n{covered} of {} hadolint rules are covered. ShellCheck's SC codes (hadolint runs ShellCheck on every RUN) are reported as HUSK-D099: `husk lint` runs ShellCheck on every RUN script when it is installed.\n",
        HADOLINT.len()
    );
    s.push_str("## BuildKit build checks\n\n| BuildKit | checks | husk |\n|---|---|---|\n");
    for (name, what) in BUILDKIT {
        let ids = covering(|r| matches!(r, Reference::Buildkit(c) if c == name));
        let cell = if ids.is_empty() {
            "not covered".to_owned()
        } else {
            links(&ids)
        };
        let _ = writeln!(s, "| {name} | {what} | {cell} |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every BuildKit check has a husk rule, and every BuildKit or hadolint name a rule
    /// carries is in the tables (a typo in a reference would otherwise map nothing).
    #[test]
    fn tables_and_references_agree() {
        for (name, _) in BUILDKIT {
            assert!(
                !covering(|r| matches!(r, Reference::Buildkit(c) if c == name)).is_empty(),
                "{name}"
            );
        }
        for r in RULES {
            for reference in r.info().references {
                match reference {
                    Reference::Buildkit(n) => assert!(BUILDKIT.iter().any(|(b, _)| b == n), "{n}"),
                    Reference::Hadolint(c) if c.starts_with("DL") => {
                        let known = HADOLINT.iter().any(|(h, _, _)| h == c);
                        // Part 2 of issue 14 may add codes newer than this table.
                        if !known {
                            eprintln!("{}: {c} is not in the hadolint table", r.info().id);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
