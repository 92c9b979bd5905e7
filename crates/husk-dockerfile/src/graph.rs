//! The stage graph: which stages a stage needs (the stage it is built on, the stages its
//! `COPY --from=` and `RUN --mount=from=` name) and which stages *reach* a build target
//! (the target itself and everything it needs, transitively). BuildKit builds only those;
//! the others are skipped, so their packages, caches and tools never reach the image.
//!
//! The walk is a plain depth-first search over stage indices with a visited set: a cycle
//! (`COPY --from` a later stage that copies back) or thousands of stages stay linear.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};

use crate::model::{BaseImage, Dockerfile, Instruction, Kind, Stage};
use crate::text::substitute;

/// A `--target` that names no stage.
#[derive(Debug, thiserror::Error)]
#[error("--target {target}: no stage is named {target:?}; the stages are named: {known}")]
pub struct UnknownTarget {
    /// The target as given.
    pub target: String,
    /// The stage names, comma-separated (`(none)` when no stage has a name).
    pub known: String,
}

/// A reference to another stage or an image, from `COPY --from=` or `RUN --mount=from=`.
#[derive(Debug, Clone, Copy)]
pub struct StageRef<'a> {
    /// The value as written.
    pub value: &'a str,
    /// The instruction it is on.
    pub instruction: &'a Instruction,
}

impl Kind {
    /// The `--from` values of this instruction: `COPY --from=X` and every
    /// `RUN --mount=...,from=X,...`.
    #[must_use]
    pub fn from_values(&self) -> Vec<&str> {
        match self {
            Kind::Copy { from: Some(f), .. } => vec![f.as_str()],
            Kind::Run { flags, .. } => flags
                .iter()
                .filter(|(k, _)| k == "mount")
                .filter_map(|(_, v)| v.as_deref())
                .filter_map(mount_from)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The `from=` field of a `--mount` value (`type=cache,from=build,target=/x`).
fn mount_from(spec: &str) -> Option<&str> {
    spec.split(',')
        .filter_map(|f| f.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("from"))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Resolves `--from` values to stages ([`Dockerfile::from_resolver`]), with the global
/// `ARG`s gathered once for all of them.
#[derive(Debug)]
pub struct FromResolver<'a> {
    file: &'a Dockerfile,
    /// The global `ARG`s and their defaults (a later one wins), built on first use.
    vars: OnceCell<BTreeMap<String, String>>,
    /// Stage name -> position of the first stage with it, built from the stages as they
    /// are (the file is borrowed, so they stay so) on the first name the parse's index
    /// misses: a value naming no stage costs a probe, not a scan of the stages.
    names: OnceCell<HashMap<&'a str, usize>>,
}

impl<'a> FromResolver<'a> {
    /// The stage `value` resolves to, as [`Dockerfile::resolve_from`].
    #[must_use]
    pub fn resolve(&self, value: &str) -> Option<&'a Stage> {
        if value.contains('$') {
            let vars = self.vars.get_or_init(|| {
                self.file
                    .global_args
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
                    .collect()
            });
            return self.stage_named(&substitute(value, vars));
        }
        self.stage_named(value)
    }

    fn stage_named(&self, name: &str) -> Option<&'a Stage> {
        let file = self.file;
        file.stage_named_or(name, |lower| {
            let names = self.names.get_or_init(|| {
                let mut m = HashMap::new();
                for (i, s) in file.stages.iter().enumerate() {
                    if let Some(n) = &s.name {
                        m.entry(n.as_str()).or_insert(i);
                    }
                }
                m
            });
            names.get(lower).and_then(|&i| file.stages.get(i))
        })
    }
}

impl Dockerfile {
    /// Every `--from` reference of stage `index`, in order.
    #[must_use]
    pub fn stage_refs(&self, index: usize) -> Vec<StageRef<'_>> {
        let Some(stage) = self.stages.get(index) else {
            return Vec::new();
        };
        stage
            .instructions
            .iter()
            .flat_map(|i| {
                i.kind.from_values().into_iter().map(move |value| StageRef {
                    value,
                    instruction: i,
                })
            })
            .collect()
    }

    /// The stage a `--from` value resolves to: a stage name or index, after the global
    /// `ARG`s are substituted (`--from=${BUILDER}`).
    ///
    /// To resolve many values, [`Dockerfile::from_resolver`] substitutes them all with one
    /// map of the global `ARG`s.
    #[must_use]
    pub fn resolve_from(&self, value: &str) -> Option<&Stage> {
        self.from_resolver().resolve(value)
    }

    /// What [`Dockerfile::resolve_from`] does, for many values: the global `ARG`s are
    /// gathered once, on the first value that has a `$`, and the stage names once, on the
    /// first value no stage is named by, not once per value (thousands of `--from=$X`
    /// under thousands of global `ARG`s, or of `--from=` a missing name over thousands of
    /// stages, stay linear).
    #[must_use]
    pub fn from_resolver(&self) -> FromResolver<'_> {
        FromResolver {
            file: self,
            vars: OnceCell::new(),
            names: OnceCell::new(),
        }
    }

    /// The stages stage `index` needs: the stage it is built on and every stage its
    /// `--from` values name (duplicates removed, in order).
    #[must_use]
    pub fn dependencies(&self, index: usize) -> Vec<usize> {
        self.dependencies_in(index, &self.from_resolver())
    }

    fn dependencies_in(&self, index: usize, resolver: &FromResolver<'_>) -> Vec<usize> {
        let mut out = Vec::new();
        if let Some(BaseImage::Stage { index: base }) = self.stages.get(index).map(|s| &s.base) {
            out.push(*base);
        }
        for r in self.stage_refs(index) {
            if let Some(s) = resolver.resolve(r.value)
                && !out.contains(&s.index)
            {
                out.push(s.index);
            }
        }
        out
    }

    /// The index of the stage `target` names (a stage name, case-insensitive, or an
    /// index), or of the last stage without a target.
    ///
    /// # Errors
    /// [`UnknownTarget`] when `target` names no stage.
    pub fn target_index(&self, target: Option<&str>) -> Result<usize, UnknownTarget> {
        match target {
            None => Ok(self.stages.len().saturating_sub(1)),
            Some(t) => self
                .stages
                .iter()
                .find(|s| s.name.as_deref() == Some(t.to_ascii_lowercase().as_str()))
                .map(|s| s.index)
                .ok_or_else(|| UnknownTarget {
                    target: t.to_owned(),
                    known: self.stage_name_list(),
                }),
        }
    }

    fn stage_name_list(&self) -> String {
        let names: Vec<&str> = self
            .stages
            .iter()
            .filter_map(|s| s.name_as_written.as_deref())
            .collect();
        if names.is_empty() {
            "(none)".to_owned()
        } else {
            names.join(", ")
        }
    }

    /// Which stages reach the build target (`--target NAME`, or the last stage): one flag
    /// per stage, true for the target and every stage it needs, transitively. Stages
    /// marked false are never built by BuildKit.
    ///
    /// # Errors
    /// [`UnknownTarget`] when `target` names no stage.
    pub fn reaching(&self, target: Option<&str>) -> Result<Vec<bool>, UnknownTarget> {
        let mut seen = vec![false; self.stages.len()];
        if self.stages.is_empty() {
            return Ok(seen);
        }
        let mut todo = vec![self.target_index(target)?];
        let resolver = self.from_resolver();
        while let Some(i) = todo.pop() {
            match seen.get_mut(i) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            todo.extend(self.dependencies_in(i, &resolver));
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests {
    use crate::parse;

    #[test]
    fn base_copy_and_mount_sources_reach_the_final_stage() {
        let df = parse(
            "FROM alpine AS base\nFROM base AS build\nFROM alpine AS cache\n\
             FROM alpine AS unused\nFROM alpine AS tools\n\
             FROM scratch\nCOPY --from=build /a /a\n\
             RUN --mount=type=cache,from=cache,target=/c --mount=type=bind,from=4,target=/t true\n",
        )
        .unwrap();
        assert_eq!(
            df.reaching(None).unwrap(),
            vec![true, true, true, false, true, true]
        );
        assert_eq!(
            df.reaching(Some("BUILD")).unwrap(),
            vec![true, true, false, false, false, false]
        );
        let err = df.reaching(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("build"), "{err}");
    }

    #[test]
    fn from_values_with_global_args_resolve() {
        let df = parse("ARG B=build\nFROM alpine AS build\nFROM scratch\nCOPY --from=${B} /a /a\n")
            .unwrap();
        assert_eq!(df.reaching(None).unwrap(), vec![true, true]);
    }

    /// `COPY --from` a later stage that copies back: a cycle BuildKit refuses; the walk
    /// still ends.
    #[test]
    fn cycles_end() {
        let df =
            parse("FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y\n")
                .unwrap();
        assert_eq!(df.reaching(None).unwrap(), vec![true, true]);
    }

    /// Ten thousand `COPY --from=$A` under ten thousand global ARGs: the ARGs are
    /// gathered once for the walk (once per value built 100 million map entries).
    #[test]
    fn ten_thousand_from_args_gathered_once() {
        let mut text = String::new();
        for i in 0..10_000 {
            text.push_str(&format!("ARG A{i}=build\n"));
        }
        text.push_str("FROM alpine AS build\nFROM alpine AS unused\nFROM scratch\n");
        for i in 0..10_000 {
            text.push_str(&format!("COPY --from=${{A{}}} /a /a\n", i % 3));
        }
        let df = parse(&text).unwrap();
        assert_eq!(df.reaching(None).unwrap(), vec![true, false, true]);
        let resolver = df.from_resolver();
        assert_eq!(resolver.resolve("$A7").map(|s| s.index), Some(0));
        assert_eq!(df.resolve_from("$A7").map(|s| s.index), Some(0));
        assert!(resolver.resolve("${NOPE}").is_none());
        assert_eq!(resolver.resolve("UNUSED").map(|s| s.index), Some(1));
        // A name no stage has, then an index: the resolver's own name map, then the index.
        assert!(resolver.resolve("nope").is_none());
        assert_eq!(resolver.resolve("2").map(|s| s.index), Some(2));
    }

    #[test]
    fn ten_thousand_stages_chain_in_linear_time() {
        let mut text = String::from("FROM alpine AS s0\n");
        for i in 1..10_000 {
            text.push_str(&format!("FROM s{} AS s{i}\nCOPY --from=s0 /a /a\n", i - 1));
        }
        let df = parse(&text).unwrap();
        assert!(df.reaching(None).unwrap().iter().all(|r| *r));
        assert_eq!(
            df.reaching(Some("s0"))
                .unwrap()
                .iter()
                .filter(|r| **r)
                .count(),
            1
        );
    }
}
