//! `husk browse` driven like a person would: the real binary in a tmux pane (a private
//! tmux server per test), keys sent with `send-keys`, the screen read with
//! `capture-pane`, on a podman-built FROM-scratch image whose layers delete a directory
//! and overwrite a file. Every wait for the screen is bounded (polling, not timing).

mod common;
#[path = "common/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

const CONTAINERFILE: &str = r#"FROM scratch
COPY busybox /bin/busybox
COPY files/ /data/
RUN ["/bin/busybox", "rm", "-r", "/data/sub"]
RUN ["/bin/busybox", "sh", "-c", "echo changed > /data/hello.txt"]
CMD ["/bin/busybox", "cat", "/data/hello.txt"]
"#;

/// Build the image above with podman and save it as an oci-archive. The tests of this
/// file run as threads of one process and each removes its tag when saved, so the tag
/// names the test (`name`) as well as the process: with the process id alone, one
/// test's `rmi` could remove the image the other was saving.
fn podman_image(dir: &Path, name: &str) -> String {
    let tag = format!("localhost/husk-browse-e2e-{name}:{}", std::process::id());
    std::fs::copy("/bin/busybox", dir.join("busybox")).unwrap();
    std::fs::create_dir_all(dir.join("files/sub")).unwrap();
    std::fs::write(dir.join("files/hello.txt"), "hello\n").unwrap();
    std::fs::write(dir.join("files/sub/bye.txt"), "bye\n").unwrap();
    std::fs::write(dir.join("Containerfile"), CONTAINERFILE).unwrap();
    let _storage = podman_storage();
    run(podman()
        .current_dir(dir)
        .args(["build", "--no-cache", "-q", "-t", &tag, "."]));
    let archive = dir.join("image.tar");
    run(podman()
        .args(["save", "--format", "oci-archive", "-o"])
        .arg(&archive)
        .arg(&tag));
    let _ = podman().args(["rmi", "-f", &tag]).output();
    format!("oci-archive:{}", archive.display())
}

/// A private tmux server with one 80x24 pane running `script`; killed on drop.
struct Pane {
    socket: String,
}

impl Pane {
    fn start(dir: &Path, name: &str, script: &str) -> Pane {
        let socket = format!("husk-browse-{}-{name}", std::process::id());
        let pane = Pane { socket };
        let out = pane
            .tmux()
            .current_dir(dir)
            .args(["new-session", "-d", "-s", "t", "-x", "80", "-y", "24"])
            .arg(script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        pane
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Send tmux key names (`Down`, `C-u`, `Tab`).
    fn keys(&self, keys: &[&str]) {
        run(self.tmux().args(["send-keys", "-t", "t"]).args(keys));
    }

    /// Type text literally.
    fn text(&self, text: &str) {
        run(self.tmux().args(["send-keys", "-t", "t", "-l", text]));
    }

    /// Wait (at most 30 s) until the screen satisfies `ok`; return it.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the screen never showed {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait(text, |s| s.contains(text))
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

/// The tree pane's part (inside its border) of the first screen line that lists `name` as a word.
fn row(screen: &str, name: &str) -> Option<String> {
    screen
        .lines()
        .map(|l| l.chars().skip(33).collect::<String>())
        .find(|t| t.split_whitespace().any(|w| w == name))
}

/// The pane's script: the terminal settings before and after husk browse, and its exit.
fn script(husk: &Path, image: &str, tag: &str) -> String {
    format!(
        "stty -a > stty-{tag}-before; {} browse {image}; echo $? > exit-{tag}; \
         stty -a > stty-{tag}-after; echo BROWSE-ENDED; exec sleep 600",
        husk.display()
    )
}

/// The digests of the blobs the registry served (`GET .../blobs/sha256:...`).
fn blob_gets(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("http.request.method=GET") && l.contains("/blobs/sha256:"))
        .filter(|l| l.contains("response completed"))
        .filter_map(|l| {
            let at = l.find("/blobs/")? + "/blobs/".len();
            let digest: String = l[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
                .collect();
            Some(digest)
        })
        .collect()
}

fn ended(dir: &Path, pane: &Pane, tag: &str) {
    pane.wait_for("BROWSE-ENDED");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(read(&format!("exit-{tag}")).trim(), "0");
    assert_eq!(
        read(&format!("stty-{tag}-before")),
        read(&format!("stty-{tag}-after")),
        "the terminal is restored after {tag}"
    );
}

/// `husk layers`'s wasted figure as its text output prints it (`10 B`).
fn layers_wasted(dir: &Path, image: &str) -> String {
    let r = husk_run(dir, &["layers", image]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.stdout.lines().last().unwrap().to_owned();
    let at = line.find('(').unwrap() + 1;
    line[at..line.find(" wasted").unwrap()].to_owned()
}

fn files_below(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn browse_shows_layers_marks_and_waste_and_keys_change_the_screen() {
    // tmux has no --version (it is -V): found by path.
    if !require_path("/usr/bin/tmux", "tmux")
        || !require("podman")
        || !require_path("/bin/busybox", "busybox-static")
    {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let image = podman_image(d, "keys");
    let wasted = layers_wasted(d, &image);
    let husk = PathBuf::from(env!("CARGO_BIN_EXE_husk"));
    let pane = Pane::start(d, "q", &script(&husk, &image, "q"));

    // The first screen: four layers, their commands, the image's waste as husk layers says.
    let s = pane.wait_for("efficiency ");
    for want in ["COPY file:", "/bin/busybox rm", "/bin/busybox sh", "> 0"] {
        assert!(s.contains(want), "{want} missing:\n{s}");
    }
    assert!(
        s.contains(&format!("wasted {wasted}")),
        "wasted {wasted}:\n{s}"
    );
    assert!(
        row(&s, "busybox").unwrap().starts_with("+ -rwxr-xr-x"),
        "{s}"
    );

    // Layer 2 removed /data/sub and its file; layer 3 modified hello.txt.
    pane.keys(&["Down", "Down"]);
    let s = pane.wait_for("Layer 2");
    assert!(
        s.contains("│/bin/busybox rm -r /data/sub"),
        "the command in the details:\n{s}"
    );
    assert!(row(&s, "sub").unwrap().starts_with("- drwxr-xr-x"), "{s}");
    assert!(
        row(&s, "bye.txt").unwrap().starts_with("- -rw-r--r--"),
        "{s}"
    );
    assert!(
        row(&s, "hello.txt").unwrap().starts_with("  -rw-r--r--"),
        "{s}"
    );
    pane.keys(&["Down"]);
    let s = pane.wait_for("Layer 3");
    assert!(
        row(&s, "hello.txt").unwrap().starts_with("~ -rw-r--r--"),
        "{s}"
    );
    assert!(row(&s, "sub").is_none(), "{s}");

    // Tab to the tree; Ctrl+U hides unchanged paths (busybox goes, hello.txt stays).
    pane.keys(&["Tab", "C-u"]);
    let s = pane.wait("busybox hidden", |s| row(s, "busybox").is_none());
    assert!(
        row(&s, "hello.txt").is_some() && s.contains("[+~-.]"),
        "{s}"
    );
    pane.keys(&["C-u"]);
    pane.wait("busybox back", |s| row(s, "busybox").is_some());
    // Search: only the matching file and the directories above it.
    pane.keys(&["/"]);
    pane.text("hello");
    pane.keys(&["Enter"]);
    let s = pane.wait("the search applied", |s| row(s, "busybox").is_none());
    assert!(
        row(&s, "hello.txt").is_some() && row(&s, "data").is_some(),
        "{s}"
    );

    // c on hello.txt: copied into the destination, and nothing else written anywhere.
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    let before = files_below(d);
    pane.keys(&["Down"]);
    pane.wait_for("/data/hello.txt");
    pane.keys(&["c"]);
    pane.wait_for("copy /data/hello.txt to: ./hello.txt");
    pane.keys(&["BSpace"; 11]);
    pane.text("out/h.txt");
    pane.keys(&["Enter"]);
    pane.wait_for("copied /data/hello.txt");
    assert_eq!(std::fs::read(out.join("h.txt")).unwrap(), b"changed\n");
    let mut after = files_below(d);
    after.retain(|p| !before.contains(p));
    assert_eq!(after, [out.join("h.txt")]);

    // ? shows the keys; q quits and the terminal is as it was.
    pane.keys(&["?"]);
    pane.wait_for("Keys (any key closes)");
    pane.keys(&["Escape", "q"]);
    ended(d, &pane, "q");
    drop(pane);

    // Ctrl+C quits too (raw mode: a key, not a signal), terminal restored.
    let pane = Pane::start(d, "c", &script(&husk, &image, "c"));
    pane.wait_for("efficiency ");
    pane.keys(&["Tab", "/"]);
    pane.keys(&["C-c"]);
    ended(d, &pane, "c");
}

#[test]
fn browse_refuses_when_stdout_is_not_a_terminal() {
    let t = tempfile::tempdir().unwrap();
    let r = husk_run(t.path(), &["browse", "oci:nowhere"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("needs a terminal")
            && r.stderr.contains("husk ls -R oci:nowhere")
            && r.stderr.contains("husk layers oci:nowhere"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_registry_image_downloads_only_the_layers_selected() {
    if !require_path("/usr/bin/tmux", "tmux")
        || !require("podman")
        || !require_path("/bin/busybox", "busybox-static")
        || !registry::have_registry()
    {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let image = podman_image(d, "registry");
    let reg = registry::start_registry(false);
    let remote = format!("docker://{}/browse:1", reg.host());
    let r = husk_run(d, &["push", &image, &remote, "--insecure-http"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = husk_run(
        d,
        &["inspect", "--format", "json", &remote, "--insecure-http"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inspect: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let layers: Vec<String> = inspect["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(layers.len(), 4);
    let served_before = blob_gets(&reg.log()).len();

    let husk = PathBuf::from(env!("CARGO_BIN_EXE_husk"));
    let args = format!("{remote} --insecure-http");
    let pane = Pane::start(d, "r", &script(&husk, &args, "r"));
    let s = pane.wait_for("wasted ? (1/4 layers read)");
    assert!(row(&s, "busybox").is_some(), "{s}");
    // Layer 2 selected: layers 1 and 2 are read (the tree as of 2 needs them), 3 is not.
    pane.keys(&["Down", "Down"]);
    let s = pane.wait_for("wasted ? (3/4 layers read)");
    assert!(row(&s, "sub").unwrap().starts_with("- drwxr-xr-x"), "{s}");
    pane.keys(&["q"]);
    ended(d, &pane, "r");
    let served = blob_gets(&reg.log())[served_before..].to_vec();
    for (i, digest) in layers.iter().enumerate() {
        let n = served.iter().filter(|s| *s == digest).count();
        let want = usize::from(i < 3);
        assert_eq!(n, want, "layer {i} ({digest}) served {n} times: {served:?}");
    }
}
