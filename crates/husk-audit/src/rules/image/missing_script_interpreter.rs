//! HUSK-I007: a script entrypoint whose interpreter is missing, or a shell-form command in
//! an image without /bin/sh.

use super::start;
use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct MissingScriptInterpreter;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I007",
    name: "missing-script-interpreter",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The entrypoint needs a shell or interpreter the image does not have",
    explanation: "A script runs through its `#!` interpreter (and `#!/usr/bin/env NAME` also needs NAME in PATH); a shell-form `ENTRYPOINT`/`CMD` becomes `/bin/sh -c \"...\"`. FROM-scratch images have neither, so the container fails with \"no such file or directory\".",
    fix: "Use the exec (JSON) form, `ENTRYPOINT [\"/app\"]`, and ship a compiled program, or add the interpreter to the image.",
    references: &[Reference::Hadolint("DL3025")],
};

impl Rule for MissingScriptInterpreter {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some(s) = start(image) else { return };
        if s.shell_form && s.found.is_none() {
            out.image(format!(
                "the command is in shell form ({:?}) but the image has no /bin/sh",
                s.argv.join(" ")
            ));
            return;
        }
        let Some((path, e)) = s.found else { return };
        let Some(line) = image.content_of(e).and_then(|c| c.shebang.as_deref()) else {
            return;
        };
        let mut words = line.split_whitespace();
        let Some(interp) = words.next() else { return };
        let exists = |p: &str| image.is_file(p);
        if !exists(interp) {
            out.path(
                &path,
                Some(e.layer),
                format!("the script's interpreter {interp} is not in the image"),
            );
        } else if interp.ends_with("/env")
            && let Some(prog) = words.find(|w| !w.starts_with('-'))
            && image
                .find_program(prog, &image.path_var(), &image.workdir())
                .is_none()
        {
            out.path(
                &path,
                Some(e.layer),
                format!("the script runs {prog:?} through {interp}, and {prog} is not in the image's PATH"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_missing_interpreter_and_shell_form() {
        let f = Fake::new()
            .exe("/run.sh", b"#!/bin/bash\necho hi\n")
            .entrypoint(&["/run.sh"])
            .facts();
        assert_eq!(run_image(&MissingScriptInterpreter, &f).len(), 1);
        let f = Fake::new()
            .entrypoint(&["/bin/sh", "-c", "/app --serve"])
            .facts();
        assert_eq!(run_image(&MissingScriptInterpreter, &f).len(), 1);
    }

    #[test]
    fn quiet_when_the_interpreter_exists() {
        let f = Fake::new()
            .exe("/run.sh", b"#!/bin/sh\necho hi\n")
            .exe("/bin/sh", b"\x7fELF")
            .entrypoint(&["/run.sh"])
            .facts();
        assert!(run_image(&MissingScriptInterpreter, &f).is_empty());
    }
}
