//! Shared helpers for the cross-crate tests.
//!
//! - [`bin`] finds the `issuer` and `verifier` binaries next to the test executable (building them
//!   once per test process, so they are never stale);
//! - [`oracle`] finds an external validator (pyHanko, poppler, qpdf, openssl, zbar…) or skips the
//!   test, unless `CCR_REQUIRE_ORACLES=1` makes every oracle mandatory (CI);
//! - [`Workspace`] is a throw-away issuer home driven through the SPEC §6 command line;
//! - [`Report`] is the verifier's `--json` report;
//! - [`pdf`] finds the signature in a certificate PDF and tampers with it;
//! - [`tools`] runs the external validators and reads their output.

pub mod api;
pub mod pdf;
pub mod routes;
pub mod tools;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// How long any child process may run before the test fails (a hang is a bug).
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(180);

/// Macao time (UTC+8, no daylight saving).
pub const MACAO: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A number unique within this test process (for file names).
pub fn unique() -> usize {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// A certificate request under `fixtures/requests/` (e.g. `"hkscs-name.json"` or `"bad/…"`).
pub fn fixture(name: &str) -> PathBuf {
    let path = workspace_root().join("fixtures/requests").join(name);
    assert!(path.is_file(), "fixture {} is missing", path.display());
    path
}

/// The name of the running test (libtest names each test's thread after it).
pub fn test_name() -> String {
    std::thread::current().name().unwrap_or("test").to_owned()
}

// ---------------------------------------------------------------------------------------------
// Binaries

/// `target/<profile>` of the running test executable (`target/<profile>/deps/<test>-<hash>`).
fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let mut dir = exe
        .parent()
        .expect("the test executable is in a directory")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// Builds the `issuer` and `verifier` binaries once per test process, into the target directory
/// and profile of the running tests. Cargo builds the binaries of another package only for that
/// package's own integration tests, so `cargo test --workspace` alone does not guarantee they
/// exist or are fresh. Cargo releases its build lock before it runs tests, so this nested build
/// does not deadlock; a no-op build takes a fraction of a second.
///
/// `CCR_SKIP_BUILD=1` skips the build (use binaries already in place).
fn build_binaries() {
    if std::env::var_os("CCR_SKIP_BUILD").is_some_and(|v| v == "1") {
        return;
    }
    let profile_dir = target_profile_dir();
    let profile = profile_dir
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or("debug")
        .to_owned();
    let target_dir = profile_dir
        .parent()
        .expect("the profile directory has a parent")
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "ccr-issuer",
            "-p",
            "ccr-verifier",
            "--bins",
            "--target-dir",
        ])
        .arg(&target_dir);
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    eprintln!("building the issuer and verifier binaries ({profile}) …");
    let out = run_with_timeout(&mut cmd, Duration::from_secs(3600));
    assert!(
        out.success(),
        "could not build the issuer and verifier binaries:\n{out}"
    );
}

/// The path of a workspace binary (`"issuer"` or `"verifier"`), built if needed.
pub fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    BUILD.call_once(build_binaries);
    let path = target_profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "binary {} not found (cargo build -p ccr-{name} --bins)",
        path.display()
    );
    path
}

/// A command running a workspace binary with a clean environment for the issuer.
pub fn bin_command(name: &str) -> Command {
    let mut cmd = Command::new(bin(name));
    cmd.env_remove("ISSUER_HOME").env("NO_COLOR", "1");
    cmd
}

// ---------------------------------------------------------------------------------------------
// Processes

/// What a child process did.
#[derive(Clone, Debug)]
pub struct Out {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
}

impl Out {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the whole transcript unless the exit code is 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "command failed:\n{self}");
        self
    }

    /// Standard output followed by standard error.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The transcript of a finished child (`command` unknown).
    pub fn from_output(output: std::process::Output) -> Self {
        Self {
            command: String::from("(child)"),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The last non-empty line of standard output, trimmed.
    pub fn last_stdout_line(&self) -> Option<&str> {
        self.stdout.lines().map(str::trim).rfind(|l| !l.is_empty())
    }
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        match self.code {
            Some(code) => writeln!(f, "exit code {code}")?,
            None => writeln!(f, "killed by a signal")?,
        }
        writeln!(f, "--- stdout\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr\n{}", self.stderr.trim_end())
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '\'') {
            s.push_str(&format!("'{}'", arg.replace('\'', "'\\''")));
        } else {
            s.push_str(&arg);
        }
    }
    s
}

/// Runs a command to completion (stdin closed), failing the test after [`CHILD_TIMEOUT`].
#[track_caller]
pub fn run(cmd: &mut Command) -> Out {
    run_with_timeout(cmd, CHILD_TIMEOUT)
}

/// Runs a command to completion (stdin closed), failing the test after `timeout`.
#[track_caller]
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Out {
    let command = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{command}` did not finish within {timeout:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for `{command}`: {e}"),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Out {
        command,
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Oracles (external tools)

fn search_path(tool: &str) -> Option<PathBuf> {
    let venv = workspace_root().join(".venv/bin").join(tool);
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

fn install_hint(tool: &str) -> &'static str {
    match tool {
        "pdfsig" | "pdftotext" | "pdftoppm" | "pdffonts" | "pdfinfo" => {
            "apt-get install poppler-utils"
        }
        "qpdf" => "apt-get install qpdf",
        "zbarimg" => "apt-get install zbar-tools",
        "certutil" => "apt-get install libnss3-tools",
        "openssl" => "apt-get install openssl",
        "sqlite3" => "apt-get install sqlite3",
        "pyhanko" => "pip install pyhanko pyhanko-cli into .venv; see .ci/run",
        "python3" => "apt-get install python3-venv and run .ci/run",
        _ => "see .ci/run",
    }
}

/// Reports a missing oracle: panics when `CCR_REQUIRE_ORACLES=1`, otherwise prints a `SKIP`
/// line on stderr and returns `None` (the test then returns early).
#[track_caller]
pub fn missing_oracle<T>(what: &str, hint: &str) -> Option<T> {
    if std::env::var("CCR_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
        panic!("{what} not found ({hint}); CCR_REQUIRE_ORACLES=1 makes every oracle mandatory");
    }
    // Written to the real stderr, past libtest's output capture, so skips are always visible.
    let line = format!("SKIP {}: {what} not found (install: {hint})\n", test_name());
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    None
}

/// Node.js with one of the Chromium driver scripts of `tests/browser/` (playwright-core,
/// Debian's Chromium).
#[derive(Debug)]
pub struct BrowserDriver {
    /// The `node` binary.
    pub node: PathBuf,
    /// The driver script.
    pub script: PathBuf,
}

/// The driver `script` of `tests/browser/` with Node.js and Chromium, or `None` (skip) with the
/// reason printed (see [`missing_oracle`]).
#[track_caller]
pub fn browser_driver(script: &str) -> Option<BrowserDriver> {
    let node = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("node"))
            .find(|p| p.is_file())
    });
    let Some(node) = node else {
        return missing_oracle("node (Node.js)", "apt-get install nodejs npm; see .ci/run");
    };
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return missing_oracle(
            &format!("Chromium ({})", chromium.display()),
            "apt-get install chromium",
        );
    }
    let browser_dir = workspace_root().join("tests/browser");
    for package in ["playwright-core", "axe-core"] {
        if !browser_dir
            .join(format!("node_modules/{package}/package.json"))
            .is_file()
        {
            return missing_oracle(
                &format!("the npm package {package} (tests/browser/node_modules)"),
                "npm ci --prefix tests/browser",
            );
        }
    }
    Some(BrowserDriver {
        node,
        script: browser_dir.join(script),
    })
}

/// The sqlite3 client (`sqlite3`, from [`oracle`]) on the registry `db`, waiting up to 10 s
/// for a lock the running service holds: without a busy timeout it fails at once with
/// "database is locked" when a write is under way.
pub fn sqlite3_on(sqlite3: &Path, db: &Path) -> Command {
    let mut cmd = Command::new(sqlite3);
    cmd.args(["-cmd", ".timeout 10000"]).arg(db);
    cmd
}

/// An external tool from `<workspace>/.venv/bin` or `PATH`, or `None` (see [`missing_oracle`]).
#[track_caller]
pub fn oracle(tool: &str) -> Option<PathBuf> {
    match search_path(tool) {
        Some(path) => Some(path),
        None => missing_oracle(tool, install_hint(tool)),
    }
}

/// A Python interpreter (the workspace venv's first) that can import every module listed.
#[track_caller]
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    let python = oracle("python3")?;
    let imports = format!("import {}", modules.join(", "));
    let out = run(Command::new(&python).args(["-c", &imports]));
    if out.success() {
        Some(python)
    } else {
        missing_oracle(
            &format!(
                "Python modules {} (for {})",
                modules.join(", "),
                python.display()
            ),
            "pip install pyhanko pyhanko-cli cwt pycose cbor2 jsonschema zxing-cpp opencv-python-headless pillow into .venv; see .ci/run",
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Time

/// Parses an RFC 3339 instant.
#[track_caller]
pub fn parse_rfc3339(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"))
}

/// The Macao calendar date of an instant.
pub fn macao_date(t: OffsetDateTime) -> Date {
    t.to_offset(MACAO).date()
}

/// `D + days` at `hh:mm:ss` Macao time, as RFC 3339 with the `+08:00` offset.
pub fn macao_instant(date: Date, days: i64, hms: &str) -> String {
    let day = date
        .checked_add(time::Duration::days(days))
        .expect("date in range");
    format!("{day}T{hms}+08:00")
}

// ---------------------------------------------------------------------------------------------
// The issuer, driven through its command line

/// A throw-away directory with an issuer home in it.
#[derive(Debug)]
pub struct Workspace {
    dir: tempfile::TempDir,
    /// The issuer home (`--home`).
    pub home: PathBuf,
}

/// One issued certificate.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The signed PDF.
    pub pdf: PathBuf,
    /// The certificate number (last line of `issuer issue`'s output).
    pub number: String,
    /// The issuer's transcript.
    pub out: Out,
}

/// The output of `issuer export-trust`.
#[derive(Clone, Debug)]
pub struct Trust {
    /// The export directory.
    pub dir: PathBuf,
    /// `root.pem`.
    pub root: PathBuf,
    /// `bundle.pem`.
    pub bundle: PathBuf,
    /// Every `status-*.cwt`, sorted.
    pub status: Vec<PathBuf>,
}

impl Trust {
    /// The one status list (a fresh home has one list).
    #[track_caller]
    pub fn status_list(&self) -> &Path {
        assert_eq!(
            self.status.len(),
            1,
            "expected exactly one status-*.cwt in {}, found {:?}",
            self.dir.display(),
            self.status
        );
        &self.status[0]
    }
}

impl Workspace {
    /// A temp directory and `issuer init --home <dir>/home`.
    #[track_caller]
    pub fn new() -> Self {
        Self::with_init_args(&[])
    }

    /// Like [`Workspace::new`] with more `issuer init` arguments (e.g. `--public-url`).
    #[track_caller]
    pub fn with_init_args(extra: &[&str]) -> Self {
        let ws = Self::uninitialised();
        let out = ws.init(extra);
        out.assert_success();
        assert!(
            ws.home.is_dir(),
            "issuer init did not create {}:\n{out}",
            ws.home.display()
        );
        ws
    }

    /// A temp directory whose `home` does not exist yet.
    pub fn uninitialised() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ccr-test-")
            .tempdir()
            .expect("temp dir");
        let home = dir.path().join("home");
        Workspace { dir, home }
    }

    /// Runs `issuer init --home <home> <extra>`.
    pub fn init(&self, extra: &[&str]) -> Out {
        let mut cmd = bin_command("issuer");
        cmd.current_dir(self.dir.path())
            .arg("init")
            .arg("--home")
            .arg(&self.home)
            .args(extra);
        run(&mut cmd)
    }

    /// The temp directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the temp directory.
    pub fn file(&self, name: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `issuer <subcommand> --home <home> <args>`.
    pub fn issuer<I, S>(&self, subcommand: &str, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = bin_command("issuer");
        cmd.current_dir(self.dir.path())
            .arg(subcommand)
            .arg("--home")
            .arg(&self.home)
            .args(args);
        run(&mut cmd)
    }

    /// `issuer keys <args…> --home <home>` (the home flag belongs to the nested command).
    pub fn keys<I, S>(&self, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = bin_command("issuer");
        cmd.current_dir(self.dir.path())
            .arg("keys")
            .args(args)
            .arg("--home")
            .arg(&self.home);
        run(&mut cmd)
    }

    /// `issuer issue --request <request> --out <path> <extra>` without checking the outcome.
    pub fn try_issue(&self, request: &Path, out_pdf: &Path, extra: &[&str]) -> Out {
        let mut args: Vec<OsString> = vec![
            "--request".into(),
            request.into(),
            "--out".into(),
            out_pdf.into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        self.issuer("issue", args)
    }

    /// Issues a certificate from a request; panics unless it succeeds and writes a PDF.
    #[track_caller]
    pub fn issue(&self, request: &Path) -> Issued {
        self.issue_with(request, &[])
    }

    /// Like [`Workspace::issue`] with more `issuer issue` arguments (e.g. `--issued-at`).
    #[track_caller]
    pub fn issue_with(&self, request: &Path, extra: &[&str]) -> Issued {
        let stem = request
            .file_stem()
            .and_then(OsStr::to_str)
            .unwrap_or("certificate");
        let pdf = self.file(format!("{stem}-{}.pdf", unique()));
        let out = self.try_issue(request, &pdf, extra);
        out.assert_success();
        let number = out
            .last_stdout_line()
            .unwrap_or_else(|| panic!("issuer issue printed no certificate number:\n{out}"))
            .to_owned();
        let bytes = std::fs::read(&pdf)
            .unwrap_or_else(|e| panic!("no PDF at {}: {e}\n{out}", pdf.display()));
        assert!(
            bytes.starts_with(b"%PDF-"),
            "{} is not a PDF",
            pdf.display()
        );
        Issued { pdf, number, out }
    }

    /// `issuer export-trust --out <fresh dir>`; panics unless it writes `root.pem` and `bundle.pem`.
    #[track_caller]
    pub fn export_trust(&self) -> Trust {
        let dir = self.file(format!("trust-{}", unique()));
        let out = self.issuer("export-trust", [OsStr::new("--out"), dir.as_os_str()]);
        out.assert_success();
        let root = dir.join("root.pem");
        let bundle = dir.join("bundle.pem");
        assert!(root.is_file(), "export-trust wrote no root.pem:\n{out}");
        assert!(bundle.is_file(), "export-trust wrote no bundle.pem:\n{out}");
        let mut status: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("export dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|n| n.starts_with("status-") && n.ends_with(".cwt"))
            })
            .collect();
        status.sort();
        Trust {
            dir,
            root,
            bundle,
            status,
        }
    }

    /// `issuer revoke <number> --reason <reason>`; panics unless it succeeds.
    #[track_caller]
    pub fn revoke(&self, number: &str, reason: &str) -> Out {
        let out = self.issuer("revoke", [number, "--reason", reason]);
        out.assert_success();
        out
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------------------------
// The verifier

/// Runs `verifier <args>` without interpreting the result.
pub fn verifier<I, S>(args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = bin_command("verifier");
    cmd.args(args);
    run(&mut cmd)
}

/// The `verifier check … --json` report.
#[derive(Clone, Debug)]
pub struct Report {
    /// The transcript.
    pub out: Out,
    /// The parsed report (the whole of standard output).
    pub json: Value,
}

/// One entry of the report's `checks`.
#[derive(Clone, Debug)]
pub struct CheckEntry {
    /// `name`.
    pub name: String,
    /// `outcome`: `pass`, `fail` or `skip`.
    pub outcome: String,
    /// `detail` (or `reason`), if a string.
    pub detail: Option<String>,
}

/// `verifier check <pdf> --trust <root> [--status <status>] [--at <at>] --json`.
#[track_caller]
pub fn check(pdf: &Path, root: &Path, status: Option<&Path>, at: Option<&str>) -> Report {
    check_with(pdf, root, status, at, &[])
}

/// Like [`check`], with more `verifier check` arguments (e.g. a limit).
#[track_caller]
pub fn check_with(
    pdf: &Path,
    root: &Path,
    status: Option<&Path>,
    at: Option<&str>,
    extra: &[&str],
) -> Report {
    let mut args: Vec<OsString> = vec!["check".into(), pdf.into(), "--trust".into(), root.into()];
    if let Some(status) = status {
        args.push("--status".into());
        args.push(status.into());
    }
    if let Some(at) = at {
        args.push("--at".into());
        args.push(at.into());
    }
    args.extend(extra.iter().map(OsString::from));
    args.push("--json".into());
    let out = verifier(args);
    Report::parse(out)
}

impl Report {
    /// Parses standard output as the JSON report (`--json` prints nothing else).
    #[track_caller]
    pub fn parse(out: Out) -> Self {
        let json: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("`--json` output is not one JSON document ({e}):\n{out}"));
        Report { out, json }
    }

    /// The exit code.
    pub fn code(&self) -> Option<i32> {
        self.out.code
    }

    /// The verdict.
    #[track_caller]
    pub fn verdict(&self) -> &str {
        self.json
            .get("verdict")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("the report has no string \"verdict\":\n{self}"))
    }

    /// Every check.
    #[track_caller]
    pub fn checks(&self) -> Vec<CheckEntry> {
        let list = self
            .json
            .get("checks")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("the report has no \"checks\" list:\n{self}"));
        list.iter()
            .map(|c| CheckEntry {
                name: c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                outcome: c
                    .get("outcome")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                detail: c
                    .get("detail")
                    .or_else(|| c.get("reason"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
            .collect()
    }

    /// The checks whose outcome is not `pass`, as `name=outcome (detail)` for messages.
    pub fn not_passed(&self) -> Vec<String> {
        self.checks()
            .into_iter()
            .filter(|c| c.outcome != "pass")
            .map(|c| {
                format!(
                    "{}={} ({})",
                    c.name,
                    c.outcome,
                    c.detail.unwrap_or_default()
                )
            })
            .collect()
    }

    /// Panics unless the verdict is `verdict` and the exit code matches SPEC §6.
    #[track_caller]
    pub fn assert_verdict(&self, verdict: &str) -> &Self {
        assert_eq!(self.verdict(), verdict, "wrong verdict; report:\n{self}");
        let expected_code = if verdict == "VALID" { 0 } else { 1 };
        assert_eq!(
            self.code(),
            Some(expected_code),
            "exit code for {verdict}; report:\n{self}"
        );
        self
    }

    /// Every string value whose key satisfies `key`, with its JSON path.
    pub fn strings_where(&self, key: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        let mut found = Vec::new();
        collect_strings(&self.json, "", &key, &mut found);
        found
    }

    /// Whether any string in the report equals `s`.
    pub fn mentions(&self, s: &str) -> bool {
        let mut found = Vec::new();
        collect_strings(&self.json, "", &|_: &str| true, &mut found);
        found.iter().any(|(_, v)| v == s)
    }
}

fn collect_strings(
    value: &Value,
    path: &str,
    key: &dyn Fn(&str) -> bool,
    out: &mut Vec<(String, String)>,
) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{path}/{k}");
                if let Value::String(s) = v
                    && key(k)
                {
                    out.push((p.clone(), s.clone()));
                }
                collect_strings(v, &p, key, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_strings(v, &format!("{path}/{i}"), key, out);
            }
        }
        _ => {}
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pretty = serde_json::to_string_pretty(&self.json).unwrap_or_default();
        write!(
            f,
            "$ {}\nexit code {:?}\n{pretty}\n--- stderr\n{}",
            self.out.command, self.out.code, self.out.stderr
        )
    }
}

impl Report {
    /// The checks whose lower-cased name contains any of `keywords`.
    pub fn checks_like(&self, keywords: &[&str]) -> Vec<CheckEntry> {
        self.checks()
            .into_iter()
            .filter(|c| {
                let name = c.name.to_lowercase();
                keywords.iter().any(|k| name.contains(k))
            })
            .collect()
    }

    /// The check about the certificate's §2 validity period: a name with "validity", "current",
    /// "expir" or "period", else a name with "valid" that is not about the signature, time-stamp,
    /// chain, token or status.
    #[track_caller]
    pub fn validity_check(&self) -> CheckEntry {
        let direct = self.checks_like(&["validity", "current", "expir", "period"]);
        if let Some(c) = direct.into_iter().next() {
            return c;
        }
        let other = [
            "signature",
            "timestamp",
            "time_stamp",
            "chain",
            "token",
            "status",
            "cms",
            "trust",
        ];
        self.checks()
            .into_iter()
            .find(|c| {
                let name = c.name.to_lowercase();
                name.contains("valid") && !other.iter().any(|o| name.contains(o))
            })
            .unwrap_or_else(|| panic!("no check about the validity period in the report:\n{self}"))
    }

    /// The check about the status list (a name containing "status" or "revoc").
    #[track_caller]
    pub fn status_check(&self) -> CheckEntry {
        self.checks_like(&["status", "revoc"])
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no check about the status list in the report:\n{self}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Services started by the tests (`issuer serve`, `verifier serve`)

/// A server process, killed when the test ends, however it ends.
#[derive(Debug)]
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A raw HTTP/1.1 GET with extra header lines (each ending in `\r\n`): the status code and
/// the head, or `None` when nothing answers.
pub fn http_get(port: u16, path: &str, extra_headers: &str) -> Option<(u16, String)> {
    use std::io::Write as _;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra_headers}\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    Some((code, head))
}

/// Spawns `cmd` (output discarded) and waits until `/healthz` on `port` answers 200.
#[track_caller]
pub fn spawn_until_healthy(cmd: Command, port: u16, what: &str) -> Server {
    spawn_logged_until_healthy(cmd, port, what, None)
}

/// Like [`spawn_until_healthy`], appending the child's standard error to `log` if given (so
/// a failing test can show what the service said).
#[track_caller]
pub fn spawn_logged_until_healthy(
    mut cmd: Command,
    port: u16,
    what: &str,
    log: Option<&Path>,
) -> Server {
    let stderr = match log {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_or_else(|_| Stdio::null(), Stdio::from),
        None => Stdio::null(),
    };
    cmd.stdout(Stdio::null()).stderr(stderr);
    let mut server = Server(cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}")));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http_get(port, "/healthz", "").is_some_and(|(code, _)| code == 200) {
            return server;
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("{what} exited early ({status})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not answer /healthz within 30 s");
}

/// `issuer serve --home <ws home> --listen 127.0.0.1:<port>`, once healthy.
#[track_caller]
pub fn start_issuer_serve(ws: &Workspace, port: u16) -> Server {
    let mut cmd = bin_command("issuer");
    cmd.arg("serve")
        .arg("--home")
        .arg(&ws.home)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    spawn_until_healthy(cmd, port, "issuer serve")
}

/// The `ETag` of a response head (header names compared case-insensitively).
pub fn etag_of(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Waits (up to 15 s) until the issuer's `/status/1` differs from `etag`; returns the new one.
#[track_caller]
pub fn wait_for_republish(port: u16, etag: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Some((200, head)) = http_get(port, "/status/1", "") {
            let now = etag_of(&head);
            if now != etag {
                return now;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the status list was not republished within 15 s");
}

/// `verifier check <pdf> --trust <root> --status online --cache-dir <cache> [--at <at>] --json`.
pub fn check_online_out(pdf: &Path, root: &Path, cache: &Path, at: Option<OffsetDateTime>) -> Out {
    let mut args: Vec<OsString> = vec![
        "check".into(),
        pdf.into(),
        "--trust".into(),
        root.into(),
        "--status".into(),
        "online".into(),
        "--cache-dir".into(),
        cache.into(),
    ];
    if let Some(at) = at {
        args.push("--at".into());
        args.push(at.format(&Rfc3339).expect("format").into());
    }
    args.push("--json".into());
    verifier(args)
}
