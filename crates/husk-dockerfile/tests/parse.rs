//! The parse on tricky constructs: heredocs, continuations, escapes, ARG in FROM, JSON vs shell form.

use husk_dockerfile::{BaseImage, Command, CopySource, ImageName, Kind, parse};

const TRICKY: &str = r#"# syntax=docker/dockerfile:1
ARG BASE=debian
ARG TAG=12-slim
FROM ${BASE}:${TAG} AS Build
RUN apt-get update \
    # comment inside
    && apt-get install -y gcc
RUN <<EOT
set -e
make
EOT
COPY <<-'CONF' /etc/app.conf
	key=value
	CONF
FROM scratch
COPY --from=build /out/app /app
ENV A=1 B="two words"
ENV LEGACY value with spaces
LABEL org.opencontainers.image.title="demo app"
USER 65532:65532
EXPOSE 8443/tcp 80
HEALTHCHECK --interval=5s CMD ["/app", "health"]
entrypoint ["/app"]
CMD --serve
"#;

#[test]
fn tricky_fixture() {
    let df = parse(TRICKY).unwrap();
    assert_eq!(df.syntax.as_deref(), Some("docker/dockerfile:1"));
    assert_eq!(df.stages.len(), 2);
    let build = &df.stages[0];
    assert_eq!(build.name.as_deref(), Some("build"));
    assert_eq!(
        build.base,
        BaseImage::Image(ImageName {
            name: "debian".into(),
            tag: Some("12-slim".into()),
            digest: None
        })
    );
    assert_eq!(build.span.start.line, 4);
    match &build.instructions[0].kind {
        Kind::Run { command, .. } => assert_eq!(
            command,
            &Command::Shell("apt-get update && apt-get install -y gcc".into())
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(build.instructions[0].span.start.line, 5);
    assert_eq!(build.instructions[0].span.end.line, 7);
    match &build.instructions[1].kind {
        Kind::Run {
            command: Command::Shell(s),
            ..
        } => assert!(s.contains("make"), "{s}"),
        other => panic!("{other:?}"),
    }
    match &build.instructions[2].kind {
        Kind::Copy { sources, dest, .. } => {
            assert_eq!(dest, "/etc/app.conf");
            assert!(matches!(&sources[0], CopySource::HereDoc(b) if b.contains("key=value")));
        }
        other => panic!("{other:?}"),
    }
    let fin = df.final_stage();
    assert_eq!(fin.base, BaseImage::Scratch);
    let kinds: Vec<&Kind> = fin.instructions.iter().map(|i| &i.kind).collect();
    assert!(matches!(kinds[0], Kind::Copy { from: Some(f), .. } if f == "build"));
    assert!(df.stage_named("build").is_some());
    assert!(
        matches!(kinds[1], Kind::Env { pairs } if pairs == &vec![("A".into(), "1".into()), ("B".into(), "two words".into())])
    );
    assert!(
        matches!(kinds[2], Kind::Env { pairs } if pairs == &vec![("LEGACY".into(), "value with spaces".into())])
    );
    assert!(
        matches!(kinds[4], Kind::User { user, group } if user == "65532" && group.as_deref() == Some("65532"))
    );
    assert!(
        matches!(kinds[5], Kind::Expose { ports } if ports == &vec!["8443/tcp".to_string(), "80".to_string()])
    );
    assert!(
        matches!(kinds[6], Kind::Healthcheck { command: Some(Command::Exec(v)), .. } if v == &vec!["/app".to_string(), "health".to_string()])
    );
    assert!(matches!(
        kinds[7],
        Kind::Entrypoint {
            command: Command::Exec(_)
        }
    ));
    assert!(matches!(kinds[8], Kind::Cmd { command: Command::Shell(s) } if s == "--serve"));
    assert_eq!(fin.instructions[7].span.start.line, 23);
}

#[test]
fn escape_directive() {
    let df = parse("# escape=`\nFROM scratch\nRUN a `\n  b\n").unwrap();
    assert_eq!(df.escape, '`');
    assert!(
        matches!(&df.stages[0].instructions[0].kind, Kind::Run { command: Command::Shell(s), .. } if s == "a b")
    );
}

#[test]
fn unknown_instruction_is_recorded_not_fatal() {
    let df = parse("FROM scratch\nFOO bar\nUSER 1\n").unwrap();
    assert_eq!(df.unknown.len(), 1);
    assert_eq!(df.unknown[0].name, "FOO");
    assert_eq!(df.unknown[0].span.start.line, 2);
    assert_eq!(df.unknown[0].span.start.column, 1);
    assert_eq!(df.stages[0].instructions.len(), 1);
}

#[test]
fn errors_carry_line_numbers() {
    let e = parse("FROM scratch\nCOPY <<EOF /x\nnever ends\n").unwrap_err();
    assert!(e.line >= 2, "{e}");
    let e = parse("# just a comment\n").unwrap_err();
    assert!(e.message.contains("FROM"), "{e}");
}

#[test]
fn image_names() {
    assert_eq!(
        ImageName::parse("localhost:5000/a/b"),
        ImageName {
            name: "localhost:5000/a/b".into(),
            tag: None,
            digest: None
        }
    );
    let n = ImageName::parse("ghcr.io/x/y:1.2@sha256:abc");
    assert_eq!(n.tag.as_deref(), Some("1.2"));
    assert_eq!(n.digest.as_deref(), Some("sha256:abc"));
}

#[test]
fn stage_inheritance() {
    let df = parse("FROM alpine AS base\nUSER 0\nFROM base AS mid\nFROM mid\n").unwrap();
    let chain: Vec<usize> = df.ancestry(2).iter().map(|s| s.index).collect();
    assert_eq!(chain, vec![2, 1, 0]);
}

/// `along_ancestry` sees each stage once, with the fact of the stage it is built on: here
/// the length of each stage's ancestry, as `ancestry` walks it.
#[test]
fn facts_along_ancestry() {
    let df = parse("FROM alpine AS a\nFROM a AS b\nFROM scratch AS c\nFROM b\nFROM c\n").unwrap();
    let mut calls = 0;
    let depth = df.along_ancestry(|_, base: Option<&usize>| {
        calls += 1;
        base.map_or(1, |d| d + 1)
    });
    assert_eq!(calls, 5);
    assert_eq!(depth, vec![1, 2, 1, 3, 2]);
    for (i, d) in depth.iter().enumerate() {
        assert_eq!(df.ancestry(i).len(), *d);
    }
    assert_eq!(
        (0..5).map(|i| df.parent(i)).collect::<Vec<_>>(),
        vec![None, Some(0), None, Some(1), Some(2)]
    );
}

/// Thousands of stages, each built on the previous one by a mixed-case name and copying
/// from a stage named far back: every lookup is a hash probe, so this stays linear (the
/// old per-comparison lower-casing scan did ~n²/2 = 200 million allocations here).
#[test]
fn twenty_thousand_stages_resolve_by_name() {
    let n = 20_000;
    let mut text = String::from("FROM scratch AS S0\n");
    for i in 1..n {
        text.push_str(&format!(
            "FROM s{} AS S{i}\nCOPY --from=S{} /a /a\n",
            i - 1,
            i / 2
        ));
    }
    let df = husk_dockerfile::parse(&text).unwrap();
    assert_eq!(df.stages.len(), n);
    for (i, st) in df.stages.iter().enumerate().skip(1) {
        assert!(
            matches!(st.base, husk_dockerfile::BaseImage::Stage { index } if index == i - 1),
            "stage {i}: {:?}",
            st.base
        );
    }
    for i in (0..n).step_by(997) {
        assert_eq!(df.stage_named(&format!("S{i}")).map(|s| s.index), Some(i));
    }
    assert!(df.stage_named("nope").is_none());
}
