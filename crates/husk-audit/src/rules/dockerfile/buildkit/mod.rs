//! BuildKit's build checks (`docker build --check`, docs.docker.com/reference/build-checks)
//! as husk rules, one per file, each naming its check in a [`Reference::Buildkit`] so that
//! `# check=skip=<Name>` in a Dockerfile skips it. Several read the Dockerfile as written
//! (keyword casing, comments, blank lines), which the model keeps beside the parse.
//!
//! [`Reference::Buildkit`]: crate::rule::Reference::Buildkit

mod consistent_casing;
mod copy_ignored_file;
mod expose_invalid_format;
mod expose_proto_casing;
mod from_as_casing;
mod invalid_default_arg_in_from;
mod invalid_definition_description;
mod json_args;
mod legacy_key_value;
mod maintainer_deprecated;
mod multiple_instructions;
mod no_empty_continuation;
mod platform_const;
mod redundant_target_platform;
mod stage_name_casing;
mod undefined_arg_in_from;
mod undefined_var;
mod workdir_relative;

pub use consistent_casing::ConsistentCasing;
pub use copy_ignored_file::CopyIgnoredFile;
pub use expose_invalid_format::ExposeInvalidFormat;
pub use expose_proto_casing::ExposeProtoCasing;
pub use from_as_casing::FromAsCasing;
pub use invalid_default_arg_in_from::InvalidDefaultArgInFrom;
pub use invalid_definition_description::InvalidDefinitionDescription;
pub use json_args::JsonArgsRecommended;
pub use legacy_key_value::LegacyKeyValue;
pub use maintainer_deprecated::MaintainerDeprecated;
pub use multiple_instructions::MultipleInstructions;
pub use no_empty_continuation::NoEmptyContinuation;
pub use platform_const::PlatformConst;
pub use redundant_target_platform::RedundantTargetPlatform;
pub use stage_name_casing::StageNameCasing;
pub use undefined_arg_in_from::UndefinedArgInFrom;
pub use undefined_var::UndefinedVar;
pub use workdir_relative::WorkdirRelative;

use husk_dockerfile::{Dockerfile, Span};

/// The keyword written at `span`'s start (`FROM`, `copy`), as written.
pub(crate) fn keyword(df: &Dockerfile, span: Span) -> &str {
    let line = df.source_line(span.start.line);
    let start = line
        .char_indices()
        .nth(span.start.column.saturating_sub(1) as usize)
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The text after the keyword at `span`, up to the end of its first line.
pub(crate) fn after_keyword(df: &Dockerfile, span: Span) -> &str {
    let line = df.source_line(span.start.line);
    let start = line
        .char_indices()
        .nth(span.start.column.saturating_sub(1) as usize)
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    let kw = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    &rest[kw..]
}

/// Every `$NAME` / `${NAME}` a text refers to without a fallback (`${NAME:-x}`,
/// `${NAME:+x}` are deliberate about an unset name and left out; escaped `\$` skipped).
pub(crate) fn var_refs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let braced = bytes.get(i + 1) == Some(&b'{');
        let start = i + 1 + usize::from(braced);
        let len = text[start.min(text.len())..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len() - start.min(text.len()));
        let fallback = braced && matches!(bytes.get(start + len), Some(b':' | b'-' | b'+'));
        if len > 0 && !bytes[start].is_ascii_digit() && !fallback {
            out.push(&text[start..start + len]);
        }
        i = start + len.max(1);
    }
    out
}

/// The `--platform=` value of a FROM as written (before ARG substitution).
pub(crate) fn platform_as_written(df: &Dockerfile, from: Span) -> Option<&str> {
    after_keyword(df, from)
        .split_whitespace()
        .take_while(|w| w.starts_with("--"))
        .find_map(|w| w.strip_prefix("--platform="))
        .map(|v| v.trim_matches('"'))
}

/// ARGs BuildKit defines without a declaration.
pub(crate) const PREDEFINED_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "TARGETSTAGE",
    "BUILDKIT_SYNTAX",
    "SOURCE_DATE_EPOCH",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_vars() {
        let df = husk_dockerfile::parse("from alpine:3.20 As b\n  Run echo\n").unwrap();
        assert_eq!(keyword(&df, df.stages[0].span), "from");
        assert_eq!(keyword(&df, df.stages[0].instructions[0].span), "Run");
        assert_eq!(after_keyword(&df, df.stages[0].span), " alpine:3.20 As b");
        assert_eq!(
            var_refs("a$B ${C:-x} \\$D $1 ${E}$ ${F}"),
            vec!["B", "E", "F"]
        );
    }
}
