//! The one list of rules. `--list-rules`, docs/rules, reports and SARIF `ruleIndex` all
//! read it, in this order. Ids are stable: never renumber or reuse one.

use crate::rule::{Rule, RuleInfo};
use crate::rules::{dockerfile as d, image as i};

/// Every rule, image rules first, each group in id order.
pub static RULES: &[&dyn Rule] = &[
    &i::RootUser,
    &i::UserNotNumeric,
    &i::UnknownUser,
    &i::EntrypointMissing,
    &i::EntrypointArch,
    &i::MissingLibrary,
    &i::MissingScriptInterpreter,
    &i::TlsWithoutTrust,
    &i::NoTmp,
    &i::UnusableHome,
    &i::Setuid,
    &i::WorldWritable,
    &i::DeviceNodes,
    &i::Secrets,
    &i::SecretEnv,
    &i::AttackTools,
    &i::PrivilegedPort,
    &i::NoHealthcheck,
    &i::HealthcheckProgram,
    &i::WastedSpace,
    &i::JunkFiles,
    &i::SymbolVersion,
    &i::RuntimeStdlib,
    &i::WorkdirUnusable,
    &i::TzWithoutZoneinfo,
    &i::NoPackageMetadata,
    &i::EntrypointTruncated,
    &i::FileCapabilities,
    &d::UnknownInstruction,
    &d::RootUser,
    &d::FromLatest,
    &d::FromNotPinned,
    &d::AddInsteadOfCopy,
    &d::AddUrl,
    &d::SecretFiles,
    &d::SecretArgEnv,
    &d::ShellFormScratch,
    &d::HealthcheckCurlScratch,
    &d::NamedUserNoPasswd,
    &d::ExposePrivileged,
    &d::NotMinimal,
    &d::AptHygiene,
    &d::Sudo,
    &d::CurlPipeShell,
    &d::Chmod777,
    &d::UnknownFrom,
    &d::UnusedStage,
    &d::CopyWithoutFrom,
    &d::DuplicateStageName,
    &d::ReservedStageName,
    &d::StageNameCasing,
    &d::FromAsCasing,
    &d::NoEmptyContinuation,
    &d::ConsistentCasing,
    &d::JsonArgsRecommended,
    &d::MaintainerDeprecated,
    &d::UndefinedArgInFrom,
    &d::WorkdirRelative,
    &d::UndefinedVar,
    &d::MultipleInstructions,
    &d::LegacyKeyValue,
    &d::RedundantTargetPlatform,
    &d::InvalidDefaultArgInFrom,
    &d::PlatformConst,
    &d::ExposeProtoCasing,
    &d::ExposeInvalidFormat,
    &d::InvalidDefinitionDescription,
    &d::CopyIgnoredFile,
    &d::UntrustedRegistry,
    &d::AptPin,
    &d::AptYes,
    &d::AptNotAptGet,
    &d::ApkPin,
    &d::RpmHygiene,
    &d::RpmPin,
    &d::PipNoCache,
    &d::PipPin,
    &d::NpmPin,
    &d::GemPin,
    &d::GoInstallVersion,
    &d::CdWorkdir,
    &d::Pipefail,
    &d::CurlNoFail,
    &d::CurlAndWget,
    &d::UseraddUid,
    &d::CopyRelativeDest,
    &d::CopyWholeFilesystem,
    &d::Shellcheck,
];

/// The rule with this id (case-insensitive).
#[must_use]
pub fn rule_by_id(id: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .map(|r| r.info())
        .find(|i| i.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Target;

    #[test]
    fn ids_are_unique_sorted_and_well_formed() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.info().id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable_by_key(|id| (!id.starts_with("HUSK-I"), *id));
        assert_eq!(
            ids, sorted,
            "registry order is image rules then Dockerfile rules, by id"
        );
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate rule id");
        for r in RULES {
            let i = r.info();
            let prefix = match i.target {
                Target::Image => "HUSK-I",
                Target::Dockerfile => "HUSK-D",
            };
            assert!(i.id.starts_with(prefix) && i.id.len() == 9, "{}", i.id);
            assert!(
                !i.summary.ends_with('.'),
                "{}: summary is one line without a period",
                i.id
            );
            assert!(!i.fix.is_empty() && !i.explanation.is_empty(), "{}", i.id);
        }
        let names: std::collections::BTreeSet<&str> = RULES.iter().map(|r| r.info().name).collect();
        assert_eq!(names.len(), RULES.len(), "duplicate rule name");
    }
}
