//! Rules about the stage graph: what `--from` names, which stages the target uses, what
//! a stage copies from where, and how stages are named. They read the graph that
//! husk-dockerfile computes ([`husk_dockerfile::Dockerfile::reaching`],
//! [`husk_dockerfile::Dockerfile::resolve_from`]).

mod copy_without_from;
mod duplicate_stage_name;
mod reserved_stage_name;
mod unknown_from;
mod unused_stage;

pub use copy_without_from::CopyWithoutFrom;
pub use duplicate_stage_name::DuplicateStageName;
pub use reserved_stage_name::ReservedStageName;
pub use unknown_from::UnknownFrom;
pub use unused_stage::UnusedStage;

/// The Levenshtein distance of two short names, for "did you mean" (bounded work: names
/// over 64 bytes are not compared).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!ca.eq_ignore_ascii_case(cb));
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance() {
        assert_eq!(super::distance("build", "buidl"), 2);
        assert_eq!(super::distance("build", "BUILD"), 0);
        assert_eq!(super::distance("a", ""), 1);
        assert_eq!(super::distance(&"x".repeat(100), "x"), usize::MAX);
    }
}
