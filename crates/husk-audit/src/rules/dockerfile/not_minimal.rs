//! HUSK-D013: the final stage is not minimal (build tools or package managers shipped, or a
//! single-stage build that compiles in place).

use husk_dockerfile::BaseImage;

use super::{commands, program, runs};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct NotMinimal;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D013",
    name: "final-stage-not-minimal",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "The final stage installs build tools or builds the program itself",
    explanation: "Compilers, SDKs and package managers in the final image make it larger, slower to pull and scan, and give an attacker tools. A multi-stage build compiles in a builder stage and copies only the result into a minimal final stage (scratch or distroless).",
    fix: "Move the build into a `FROM ... AS build` stage and `COPY --from=build` only the program (and its runtime files) into `FROM scratch`; or package the binary with `husk build`.",
    references: &[Reference::Cis("4.3")],
};

const BUILD_PACKAGES: &[&str] = &[
    "gcc",
    "g++",
    "clang",
    "make",
    "cmake",
    "build-essential",
    "build-base",
    "golang",
    "rustc",
    "cargo",
    "openjdk",
    "maven",
    "gradle",
    "nodejs-dev",
    "python3-dev",
    "musl-dev",
    "libc6-dev",
];
const BUILD_COMMANDS: &[(&str, &str)] = &[
    ("go", "build"),
    ("cargo", "build"),
    ("npm", "run"),
    ("mvn", "package"),
    ("gradle", "build"),
    ("make", ""),
    ("gcc", ""),
    ("cc", ""),
];

impl Rule for NotMinimal {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let fin = file.target_stage();
        if fin.base == BaseImage::Scratch {
            return;
        }
        // The target and the stages it is built on: their files are the image's. Stages
        // it only copies from are where building belongs, and are not looked at.
        for stage in df.ancestry(fin.index) {
            let whose = if stage.index == fin.index {
                "the final stage".to_owned()
            } else {
                format!(
                    "{}, which the final stage is built on,",
                    file.stage_label(stage.index)
                )
            };
            for (i, text) in runs(&stage.instructions) {
                for (words, _) in commands(&text) {
                    let (Some(prog), args) = program(&words) else {
                        continue;
                    };
                    if let Some(p) = build_package(prog, args) {
                        out.at(i.span, format!("{whose} installs the build tool {p}"));
                    }
                    if let Some(what) = build_command(prog, args) {
                        let single = if df.stages.len() == 1 {
                            " (single-stage build)"
                        } else {
                            ""
                        };
                        out.at(i.span, format!("{whose} builds with {what}{single}: build in an earlier stage and copy the result"));
                    }
                }
            }
        }
    }
}

/// The build package an install command installs, if any.
fn build_package<'a>(prog: &str, args: &'a [String]) -> Option<&'a String> {
    let installs = matches!(prog, "apt-get" | "apt" | "apk" | "yum" | "dnf" | "microdnf")
        && args.iter().any(|a| a == "install" || a == "add");
    if !installs {
        return None;
    }
    args.iter().find(|a| {
        let name = a.split(['=', ':']).next().unwrap_or(a);
        BUILD_PACKAGES
            .iter()
            .any(|b| name == *b || name.starts_with(&format!("{b}-")))
    })
}

/// The build command this is (`go build`, `make`), if it is one.
fn build_command(prog: &str, args: &[String]) -> Option<String> {
    let (c, sub) = BUILD_COMMANDS.iter().find(|(c, sub)| {
        prog == *c && (sub.is_empty() || args.first().is_some_and(|a| a == sub))
    })?;
    Some(if sub.is_empty() {
        (*c).to_owned()
    } else {
        format!("{c} {sub}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_single_stage_builds() {
        let t = "FROM golang:1.23\nRUN apt-get install -y gcc && go build -o /app .\n";
        assert_eq!(run_dockerfile(&NotMinimal, t).len(), 2);
    }

    /// A stage the final one is built on ships its tools; a `--target` decides which
    /// stage is final.
    #[test]
    fn follows_the_target_and_its_ancestry() {
        let t = "FROM debian:12 AS base\nRUN apt-get install -y gcc\nFROM base AS app\nRUN true\nFROM golang:1.23 AS test\nRUN go build ./...\n";
        let f = run_dockerfile(&NotMinimal, t);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("go build"), "{}", f[0].message);
        let facts = DockerfileFacts::new("Dockerfile", husk_dockerfile::parse(t).unwrap())
            .with_target(Some("app"))
            .unwrap();
        let f = crate::testing::run_dockerfile_facts(&NotMinimal, &facts);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("stage 0 (base)"), "{}", f[0].message);
    }

    #[test]
    fn quiet_for_multi_stage() {
        let t = "FROM golang:1.23 AS b\nRUN go build -o /app .\nFROM scratch\nCOPY --from=b /app /app\n";
        assert!(run_dockerfile(&NotMinimal, t).is_empty());
    }
}
