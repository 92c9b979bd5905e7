//! HUSK-I020: bytes that later layers overwrite or delete.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct WastedSpace;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I020",
    name: "wasted-space",
    target: Target::Image,
    severity: Severity::Low,
    summary: "Layers carry bytes that a later layer overwrites or deletes",
    explanation: "Deleting or replacing a file in a later layer does not make the image smaller: the earlier layer still holds the bytes and every pull downloads them (and a deleted secret is still readable). Reported when a layer wastes at least 1 MiB.",
    fix: "Create and delete temporary files in the same `RUN`, or use a multi-stage build and copy only the results into the final stage.",
    references: &[],
};

const THRESHOLD: u64 = 1 << 20;

impl Rule for WastedSpace {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        for (i, l) in image.layers.iter().enumerate() {
            if l.wasted_bytes >= THRESHOLD {
                out.path(
                    "/",
                    Some(i),
                    format!(
                        "layer {i} ({}) adds {} bytes of which {} are overwritten or deleted later",
                        l.digest, l.added_bytes, l.wasted_bytes
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_a_wasteful_layer() {
        assert_eq!(
            run_image(&WastedSpace, &Fake::new().layer(10 << 20, 8 << 20).facts()).len(),
            1
        );
    }

    #[test]
    fn quiet_for_an_efficient_one() {
        assert!(run_image(&WastedSpace, &Fake::new().layer(10 << 20, 0).facts()).is_empty());
    }
}
