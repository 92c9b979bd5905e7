//! HUSK-I023: a language runtime without the standard library it loads at start.

use husk_layer::ImagePath;

use super::start_program;
use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct RuntimeStdlib;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I023",
    name: "runtime-stdlib-missing",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "A language runtime is in the image without the standard library it needs",
    explanation: "Copying only an interpreter's binary (and its shared libraries) into a FROM-scratch image is not enough: python looks for `lib/pythonX.Y/os.py` next to its prefix and dies with \"Could not find platform independent libraries\" and \"ModuleNotFoundError: No module named 'encodings'\"; java needs `lib/modules` under its home (\"Error occurred during initialization of VM\"); tclsh needs `init.tcl`; ruby needs `rubygems.rb`; perl programs stop at `use strict` (\"Can't locate strict.pm in @INC\"). node and php carry what they need at start inside the binary and are not checked.",
    fix: "Copy the runtime's whole installation (e.g. `COPY --from=build /usr/lib/python3.11 /usr/lib/python3.11`, or a jlink'ed Java runtime), or use the runtime's own slim/distroless base image.",
    references: &[],
};

impl Rule for RuntimeStdlib {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some((path, e)) = start_program(image) else {
            return;
        };
        let name = path.as_str().rsplit('/').next().unwrap_or_default();
        let bin_dir = parent(path.as_str());
        let prefix = parent(&bin_dir);
        let missing = match runtime(name) {
            Some(Runtime::Python) => python(image, name, &prefix),
            Some(Runtime::Java) => java(image, &prefix),
            Some(Runtime::Tcl) => tcl(image, name, &prefix),
            Some(Runtime::Perl) => anywhere(image, "strict.pm", "strict.pm (@INC)"),
            Some(Runtime::Ruby) => anywhere(image, "rubygems.rb", "rubygems.rb"),
            None => None,
        };
        if let Some(what) = missing {
            out.path(
                &path,
                Some(e.layer),
                format!("{path} is a {name} runtime but the image has no {what}"),
            );
        }
    }
}

enum Runtime {
    Python,
    Java,
    Tcl,
    Perl,
    Ruby,
}

fn runtime(name: &str) -> Option<Runtime> {
    let versioned = |base: &str| {
        name.strip_prefix(base)
            .is_some_and(|r| r.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    };
    if versioned("python") {
        Some(Runtime::Python)
    } else if name == "java" {
        Some(Runtime::Java)
    } else if versioned("tclsh") {
        Some(Runtime::Tcl)
    } else if versioned("perl") {
        Some(Runtime::Perl)
    } else if versioned("ruby") {
        Some(Runtime::Ruby)
    } else {
        None
    }
}

fn parent(p: &str) -> String {
    match p.rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((d, _)) => d.to_owned(),
    }
}

fn join(dir: &str, rest: &str) -> String {
    format!("{}/{rest}", dir.trim_end_matches('/'))
}

/// Names of the directories below `dir` that start with `start`.
fn children_starting(image: &ImageFacts, dir: &str, start: &str) -> Vec<String> {
    let Ok(d) = ImagePath::parse(dir) else {
        return Vec::new();
    };
    let Some(real) = image.resolve(d.as_str()) else {
        return Vec::new();
    };
    image
        .files
        .children(&real)
        .filter_map(|(p, _)| p.as_str().rsplit('/').next().map(str::to_owned))
        .filter(|n| n.starts_with(start))
        .collect()
}

/// Python finds its prefix by looking for `lib/pythonX.Y/os.py` (or `lib/pythonXY.zip`)
/// above its binary, then in its build prefix; `PYTHONHOME` overrides both.
fn python(image: &ImageFacts, name: &str, prefix: &str) -> Option<String> {
    let mut prefixes: Vec<String> = match image.env("PYTHONHOME") {
        Some(h) => h.split(':').take(1).map(str::to_owned).collect(),
        None => vec![prefix.to_owned(), "/usr".into(), "/usr/local".into()],
    };
    prefixes.dedup();
    let versions: Vec<String> = match name.strip_prefix("python") {
        Some(v) if v.contains('.') => vec![format!("python{v}")],
        _ => prefixes
            .iter()
            .flat_map(|p| children_starting(image, &join(p, "lib"), "python"))
            .collect(),
    };
    let found = prefixes.iter().any(|p| {
        versions.iter().any(|v| {
            image.is_file(&join(p, &format!("lib/{v}/os.py")))
                || image.is_file(&join(p, &format!("lib/{}.zip", v.replace('.', ""))))
        })
    });
    (!found).then(|| {
        let v = versions.first().map_or("python3.X", String::as_str);
        format!(
            "standard library ({}/lib/{v}/os.py): python fails with \"Could not find platform independent libraries\"",
            prefixes[0].trim_end_matches('/')
        )
    })
}

/// The JVM loads its class library from `lib/modules` (9+) or `lib/rt.jar` (8) under its
/// home, the directory above `bin/java`.
fn java(image: &ImageFacts, home: &str) -> Option<String> {
    let found = ["lib/modules", "lib/rt.jar", "jre/lib/rt.jar"]
        .iter()
        .any(|f| image.is_file(&join(home, f)));
    (!found).then(|| {
        format!(
            "class library ({}): the JVM fails with \"Error occurred during initialization of VM\"",
            join(home, "lib/modules")
        )
    })
}

/// tclsh sources `init.tcl` from `TCL_LIBRARY`, `<prefix>/lib/tclX.Y` or Debian's
/// `/usr/share/tcltk/tclX.Y`.
fn tcl(image: &ImageFacts, name: &str, prefix: &str) -> Option<String> {
    let v = name.strip_prefix("tclsh").filter(|v| !v.is_empty());
    let mut dirs: Vec<String> = image.env("TCL_LIBRARY").into_iter().collect();
    let versions: Vec<String> = match v {
        Some(v) => vec![format!("tcl{v}")],
        None => children_starting(image, &join(prefix, "lib"), "tcl8")
            .into_iter()
            .chain(children_starting(image, "/usr/share/tcltk", "tcl8"))
            .collect(),
    };
    for ver in &versions {
        dirs.push(join(prefix, &format!("lib/{ver}")));
        dirs.push(format!("/usr/share/tcltk/{ver}"));
        dirs.push(format!("/usr/share/{ver}"));
    }
    let found = dirs.iter().any(|d| image.is_file(&join(d, "init.tcl")));
    (!found).then(|| "init.tcl: tclsh fails with \"Can't find a usable init.tcl\"".to_owned())
}

/// A runtime whose library directories vary by distribution: any file of this name.
fn anywhere(image: &ImageFacts, file: &str, what: &str) -> Option<String> {
    let suffix = format!("/{file}");
    let found = image
        .files
        .walk(&ImagePath::root())
        .any(|(p, n)| n.is_file() && p.as_str().ends_with(&suffix));
    (!found).then(|| what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, messages, run_image};

    fn python(extra: impl FnOnce(Fake) -> Fake) -> ImageFacts {
        extra(
            Fake::new()
                .exe("/usr/bin/python3.11", &elf(62, None, &[], b""))
                .symlink("/usr/bin/python3", "python3.11")
                .entrypoint(&["/usr/bin/python3", "-c", "print(1)"]),
        )
        .facts()
    }

    #[test]
    fn fires_for_a_bare_python_java_and_script() {
        let m = messages(&run_image(&RuntimeStdlib, &python(|f| f)));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("/usr/lib/python3.11/os.py"), "{m:?}");
        let f = Fake::new()
            .exe("/opt/java/bin/java", &elf(62, None, &[], b""))
            .entrypoint(&["/opt/java/bin/java", "-jar", "/app.jar"])
            .facts();
        assert!(messages(&run_image(&RuntimeStdlib, &f))[0].contains("/opt/java/lib/modules"));
        // Through a script's shebang.
        let f = Fake::new()
            .exe("/usr/bin/perl", &elf(62, None, &[], b""))
            .exe("/app.pl", b"#!/usr/bin/perl -w\nuse strict;\n")
            .entrypoint(&["/app.pl"])
            .facts();
        assert!(messages(&run_image(&RuntimeStdlib, &f))[0].contains("strict.pm"));
    }

    #[test]
    fn quiet_with_the_library_or_for_other_programs() {
        let f = python(|f| f.file("/usr/lib/python3.11/os.py", b""));
        assert!(run_image(&RuntimeStdlib, &f).is_empty());
        let f = python(|f| f.file("/usr/lib/python311.zip", b""));
        assert!(run_image(&RuntimeStdlib, &f).is_empty());
        let f = Fake::new()
            .exe("/opt/java/bin/java", &elf(62, None, &[], b""))
            .file("/opt/java/lib/modules", b"")
            .entrypoint(&["/opt/java/bin/java"])
            .facts();
        assert!(run_image(&RuntimeStdlib, &f).is_empty());
        let f = Fake::new().exe("/app", b"x").entrypoint(&["/app"]).facts();
        assert!(run_image(&RuntimeStdlib, &f).is_empty());
        let f = Fake::new()
            .exe("/usr/bin/python3", &elf(62, None, &[], b""))
            .file("/usr/local/lib/python3.12/os.py", b"")
            .entrypoint(&["python3"])
            .env("PATH=/usr/bin")
            .facts();
        assert!(run_image(&RuntimeStdlib, &f).is_empty());
    }
}
