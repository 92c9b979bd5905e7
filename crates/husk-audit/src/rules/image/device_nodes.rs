//! HUSK-I013: device nodes in the image.

use husk_explore::EntryKind;
use husk_layer::ImagePath;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct DeviceNodes;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I013",
    name: "device-nodes",
    target: Target::Image,
    severity: Severity::Medium,
    summary: "The image contains device nodes",
    explanation: "Runtimes provide /dev themselves; a character or block device shipped in a layer is at best dead weight and at worst a way to reach host hardware when the container runs with device access or privileges. Extracting such layers also needs root.",
    fix: "Remove the device nodes from the build context or the stage that created them (they usually come from copying a whole root filesystem).",
    references: &[],
};

impl Rule for DeviceNodes {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        for (p, e) in image.files.walk(&ImagePath::root()) {
            let what = match e.kind {
                EntryKind::Char => "character device",
                EntryKind::Block => "block device",
                _ => continue,
            };
            out.path(p, Some(e.layer), format!("{what} node"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_a_device() {
        assert_eq!(
            run_image(&DeviceNodes, &Fake::new().device("/dev/sda").facts()).len(),
            1
        );
    }

    #[test]
    fn quiet_without() {
        assert!(run_image(&DeviceNodes, &Fake::new().dir("/dev").facts()).is_empty());
    }
}
