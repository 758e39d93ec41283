//! `verifier`: the department's command line (SPEC §6).
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ccr_pki::chain::TrustRoot;
use ccr_pki::pdf::Limits;
use ccr_pki::status_list::SignedStatusList;
use ccr_verifier::check::{
    CheckContext, StatusInput, authenticated_status_uri, authenticated_token_status_uri, check_pdf,
    check_token,
};
use ccr_verifier::evidence;
use ccr_verifier::fetch::{self, Fetcher};
use ccr_verifier::report::{Outcome, Report, Verdict};
use ccr_verifier::status;

/// Most verifications `serve` may run at once (each may hold a body in memory).
const MAX_CONCURRENT: usize = 100_000;
/// Longest time `serve` may allow one verification (a day).
const MAX_TIMEOUT_MS: u64 = 86_400_000;

/// Largest status list or bundle file read.
const MAX_STATUS_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Verifies electronic Certificates of Criminal Record.
#[derive(Debug, Parser)]
#[command(name = "verifier", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct LimitArgs {
    /// Largest PDF accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_file_bytes)]
    max_file_bytes: u64,
    /// Deepest nesting of arrays and dictionaries.
    #[arg(long, default_value_t = Limits::default().max_nesting)]
    max_nesting: u32,
    /// Most cross-reference entries over all revisions.
    #[arg(long, default_value_t = Limits::default().max_objects)]
    max_objects: u64,
    /// Most bytes decompressed from streams.
    #[arg(long, default_value_t = Limits::default().max_decompressed_bytes)]
    max_decompressed_bytes: u64,
}

#[derive(Debug, clap::Args)]
struct CommonArgs {
    /// The root certificate (PEM), the one trust anchor.
    #[arg(long)]
    trust: PathBuf,
    /// The status list: a file, a URL, or `online` (the list named in the certificate).
    #[arg(long)]
    status: Option<String>,
    /// Judge at this instant (RFC 3339) instead of the device clock.
    #[arg(long)]
    at: Option<String>,
    /// Print the JSON report only.
    #[arg(long)]
    json: bool,
    /// Where fetched status lists and bundles are cached (default `~/.cache/ccr-verifier`).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// The issuer's public base URL, the only place fetched from: `--bundle online` is
    /// `<issuer>/trust` (and needs this option), and `--status online` fetches only lists
    /// under `<issuer>/status/`. Without it, `--status online` fetches the list a
    /// certificate names only once the certificate is authenticated.
    #[arg(long)]
    issuer: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a certificate PDF.
    Check {
        /// The PDF.
        file: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        limits: LimitArgs,
        /// Also write an evidence bundle of this verification here (SPEC §11).
        #[arg(long)]
        evidence: Option<PathBuf>,
    },
    /// Re-prove an evidence bundle offline, as of its recorded instant (SPEC §11).
    Replay(ReplayArgs),
    /// Run the stateless verification service and page (SPEC §6–§8).
    Serve(ServeArgs),
    /// Receive a department's pushed transfers at `POST /inbox` (SPEC §9).
    Receive(ccr_verifier::receive::ReceiveArgs),
    /// Verify a QR token alone (the paper certificate's path).
    Token {
        /// The token: the URL read from the QR code, or its fragment (decimal digits, or the
        /// older base64url).
        token: String,
        #[command(flatten)]
        common: CommonArgs,
        /// The issuer's trust bundle (JSON or PEM): a file, a URL, or `online` (`<issuer>/trust`).
        #[arg(long)]
        bundle: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// The evidence bundle.
    file: PathBuf,
    /// The PDF, if at hand: it must be the one the bundle records.
    #[arg(long)]
    pdf: Option<PathBuf>,
    /// Pin the trust anchor: the bundle's must be this root.
    #[arg(long)]
    trust: Option<PathBuf>,
    /// Print the JSON report only.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The root certificate (PEM), the one trust anchor.
    #[arg(long)]
    trust: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: std::net::SocketAddr,
    /// The issuer's public base URL: the trust bundle is `<issuer>/trust`, and only its status
    /// lists are fetched. Without it, QR tokens are refused (503: their signers are in the
    /// issuer's bundle), and a PDF's list is fetched only once the PDF is authenticated.
    #[arg(long)]
    issuer: Option<String>,
    /// Largest request body, in bytes (413 beyond).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Most verifications in flight (429 beyond, never queued).
    #[arg(long, default_value_t = 64)]
    max_concurrent: usize,
    /// Time allowed per verification, in milliseconds (503 beyond).
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Time a client has to send a complete request header, in milliseconds (then the
    /// connection is closed).
    #[arg(long, default_value_t = 10_000)]
    header_read_timeout_ms: u64,
    /// Most connections open at once (503 and closed beyond).
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Worker threads of the HTTP runtime (default: one per CPU).
    #[arg(long, env = "VERIFIER_THREADS")]
    threads: Option<usize>,
    #[command(flatten)]
    limits: LimitArgs,
}

impl LimitArgs {
    fn pdf_limits(&self) -> Limits {
        Limits {
            max_file_bytes: self.max_file_bytes,
            max_nesting: self.max_nesting,
            max_objects: self.max_objects,
            max_decompressed_bytes: self.max_decompressed_bytes,
            ..Limits::default()
        }
    }
}

impl Command {
    fn common(&self) -> Option<&CommonArgs> {
        match self {
            Self::Check { common, .. } | Self::Token { common, .. } => Some(common),
            Self::Serve(_) | Self::Receive(_) | Self::Replay(_) => None,
        }
    }
}

/// A usage or I/O problem (exit code 2).
struct Fatal(String);

fn read_bounded(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, Fatal> {
    let file = std::fs::File::open(path)
        .map_err(|e| Fatal(format!("cannot open {what} {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Fatal(format!("cannot read {what} {}: {e}", path.display())))?;
    Ok(bytes)
}

fn is_remote(source: &str) -> bool {
    source == "online" || source.starts_with("http://") || source.starts_with("https://")
}

/// The status information for a certificate whose list is `named_uri` (from its token).
enum Acquired {
    None,
    Unavailable(String),
    List(Box<SignedStatusList>),
}

/// Everything needed to judge, from the common options.
struct Judging {
    root: TrustRoot,
    at: OffsetDateTime,
    /// `--at` was given: a what-if instant rather than the device clock.
    explicit_at: bool,
    fetcher: Fetcher,
    /// `--issuer`, without a trailing slash.
    issuer: Option<String>,
}

/// `--issuer`, checked to be an http(s) URL, without its trailing slash.
fn issuer_option(issuer: Option<&str>) -> Result<Option<String>, Fatal> {
    match issuer.map(|u| u.trim_end_matches('/')) {
        Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            Err(Fatal(format!("--issuer {url:?} is not an http(s) URL")))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

impl Judging {
    /// The key windows of `--issuer`'s signed bundle (SPEC §10), so that a key the bureau
    /// declared compromised is judged as such; none without `--issuer`, or (with a warning)
    /// when its bundle is unavailable or refused: the PDF is then judged by its own
    /// certificates and revocation data.
    fn issuer_windows(&self) -> std::sync::Arc<ccr_verifier::trust::Trusted> {
        let Some(issuer) = &self.issuer else {
            return Default::default();
        };
        self.fetcher
            .trusted_bundle(
                &format!("{issuer}/trust"),
                &self.root,
                OffsetDateTime::now_utc(),
            )
            .unwrap_or_else(|why| {
                eprintln!("verifier: warning: the issuer's key windows are not applied: {why}");
                Default::default()
            })
    }
}

fn judging(common: &CommonArgs) -> Result<Judging, Fatal> {
    let root_pem = read_bounded(&common.trust, 64 * 1024, "trust anchor")?;
    let root = TrustRoot::from_pem(&root_pem)
        .map_err(|e| Fatal(format!("{}: {e}", common.trust.display())))?;
    let at = match common.at.as_deref() {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|e| Fatal(format!("--at {text:?} is not RFC 3339: {e}")))
            .and_then(|at| ccr_pki::validity::check_instant("--at", at).map_err(Fatal))?,
        None => OffsetDateTime::now_utc(),
    };
    let fetcher = Fetcher::new(
        common
            .cache_dir
            .clone()
            .unwrap_or_else(Fetcher::default_dir),
    );
    Ok(Judging {
        root,
        at,
        explicit_at: common.at.is_some(),
        fetcher,
        issuer: issuer_option(common.issuer.as_deref())?,
    })
}

impl Judging {
    /// Reads or fetches the status list. A file that cannot be read or authenticated is a
    /// usage error; a list that cannot be fetched leaves the status unknown, with the reason.
    /// `named_uri` must come from an authenticated token (it is fetched for `online`).
    fn status(&self, source: Option<&str>, named_uri: Option<&str>) -> Result<Acquired, Fatal> {
        let Some(source) = source else {
            return Ok(Acquired::None);
        };
        if is_remote(source) {
            // The trusted time never goes back behind a signed time already seen.
            self.fetcher.check_clock(self.at).map_err(Fatal)?;
            let url = if source == "online" {
                match named_uri {
                    Some(uri) => uri,
                    None => {
                        return Ok(Acquired::Unavailable(
                            "no authentic certificate names a status list".into(),
                        ));
                    }
                }
            } else {
                source
            };
            if let Some(issuer) = &self.issuer
                && !fetch::is_status_list_of(issuer, url)
            {
                return Ok(Acquired::Unavailable(format!(
                    "{url} is not a status list of the issuer {issuer} (--issuer)"
                )));
            }
            return Ok(match self.fetcher.status_list(url, &self.root, self.at) {
                Ok((list, _)) => Acquired::List(Box::new(list)),
                Err(why) => Acquired::Unavailable(why),
            });
        }
        let bytes = read_bounded(Path::new(source), MAX_STATUS_FILE_BYTES, "status list")?;
        let list = status::authenticate(&bytes, &self.root)
            .map_err(|e| Fatal(format!("{source}: {e}")))?;
        if self.at.saturating_add(fetch::CLOCK_SKEW) < list.issued_at && !self.explicit_at {
            return Err(Fatal(format!(
                "this device's clock ({}) is earlier than the status list's signed time ({}); correct the clock",
                self.at, list.issued_at
            )));
        }
        Ok(Acquired::List(Box::new(list)))
    }
}

impl Judging {
    /// The instant a check is made at: `--at`, or now, taken once the status list is at hand.
    /// A list signed after that by less than the allowed clock skew (republished while it was
    /// fetched, or by an issuer whose clock runs a little ahead) is current evidence, not a
    /// list from the future: the check is then made at its signing time.
    fn checking_time(&self, acquired: &Acquired) -> time::OffsetDateTime {
        if self.explicit_at {
            return self.at;
        }
        let now = time::OffsetDateTime::now_utc().max(self.at);
        match acquired {
            Acquired::List(list)
                if list.issued_at > now
                    && list.issued_at <= now.saturating_add(fetch::CLOCK_SKEW) =>
            {
                list.issued_at
            }
            _ => now,
        }
    }
}

fn status_input(acquired: &Acquired) -> StatusInput<'_> {
    match acquired {
        Acquired::None => StatusInput::None,
        Acquired::Unavailable(why) => StatusInput::Unavailable(why),
        Acquired::List(list) => StatusInput::List(list),
    }
}

fn run(command: &Command, common: &CommonArgs) -> Result<Report, Fatal> {
    let judging = judging(common)?;
    let status_source = common.status.as_deref();
    match command {
        Command::Serve(_) | Command::Receive(_) => Err(Fatal(
            "`serve` and `receive` do not produce a report".into(),
        )),
        Command::Check {
            file,
            limits,
            evidence,
            ..
        } => {
            let pdf_limits = limits.pdf_limits();
            // Read one byte past the limit so an oversize file is reported as such, never loaded.
            let bytes = read_bounded(file, limits.max_file_bytes, "certificate")?;
            let trusted = judging.issuer_windows();
            let mut ctx = CheckContext {
                root: &judging.root,
                status: StatusInput::None,
                at: judging.at,
                limits: &pdf_limits,
                windows: &trusted.windows,
            };
            // `online` needs the list's URI before the checks: it is taken only from an
            // authenticated token, so a forged file never makes the verifier fetch.
            let named_uri = (status_source == Some("online"))
                .then(|| authenticated_status_uri(&bytes, &ctx))
                .flatten();
            let acquired = judging.status(status_source, named_uri.as_deref())?;
            ctx.status = status_input(&acquired);
            ctx.at = judging.checking_time(&acquired);
            let report = check_pdf(&bytes, &ctx);
            if let Some(path) = evidence {
                let used = StatusUsed {
                    source: status_source,
                    named_uri: named_uri.as_deref(),
                    acquired: &acquired,
                };
                write_evidence(path, &bytes, common, &judging, &used, &report)?;
            }
            Ok(report)
        }
        Command::Replay(_) => Err(Fatal("`replay` is run on its own".into())),
        Command::Token { token, bundle, .. } => {
            let bytes = ccr_pki::token::from_url_or_text(token)
                .map_err(|e| Fatal(format!("the token argument: {e}")))?;
            let now = OffsetDateTime::now_utc();
            let trusted = match bundle.as_deref() {
                None => Default::default(),
                Some(source) if is_remote(source) => {
                    // The token is not authenticated yet, so the issuer it names is not
                    // contacted: `online` means the configured issuer's bundle.
                    let url = if source == "online" {
                        let issuer = judging.issuer.as_deref().ok_or_else(|| {
                            Fatal(
                                "--bundle online needs --issuer <URL>: nothing a token names \
                                 is fetched before the token is authenticated"
                                    .into(),
                            )
                        })?;
                        format!("{issuer}/trust")
                    } else {
                        source.to_owned()
                    };
                    judging
                        .fetcher
                        .trusted_bundle(&url, &judging.root, now)
                        .map_err(|e| Fatal(format!("the trust bundle: {e}")))?
                }
                Some(path) => {
                    let bytes = read_bounded(
                        Path::new(path),
                        ccr_pki::bundle::signed::MAX_SIGNED_BUNDLE_BYTES as u64,
                        "trust bundle",
                    )?;
                    judging
                        .fetcher
                        .accept_bundle(&bytes, &judging.root, now)
                        .map_err(|e| Fatal(format!("the trust bundle: {e}")))?
                }
            };
            let named_uri = authenticated_token_status_uri(
                &bytes,
                &trusted.certificates,
                &judging.root,
                &trusted.windows,
            );
            let acquired = judging.status(status_source, named_uri.as_deref())?;
            let limits = Limits::default();
            let ctx = CheckContext {
                root: &judging.root,
                status: status_input(&acquired),
                at: judging.checking_time(&acquired),
                limits: &limits,
                windows: &trusted.windows,
            };
            Ok(check_token(&bytes, &trusted.certificates, &ctx))
        }
    }
}

/// The status information a `check` used, for its evidence bundle.
struct StatusUsed<'a> {
    /// `--status`.
    source: Option<&'a str>,
    /// The list URI an authenticated token named (`--status online`).
    named_uri: Option<&'a str>,
    acquired: &'a Acquired,
}

/// The exact signed bytes of the list a `check` used: the file given, or the copy the fetcher
/// keeps, authenticated again and required to read as the list used.
fn used_cwt(
    judging: &Judging,
    used: &StatusUsed<'_>,
    list: &SignedStatusList,
) -> Result<Vec<u8>, Fatal> {
    let lost = || {
        Fatal("--evidence: the status list used could not be recorded (its copy changed meanwhile); run the check again".into())
    };
    let source = used.source.ok_or_else(lost)?;
    if is_remote(source) {
        let url = if source == "online" {
            used.named_uri.ok_or_else(lost)?
        } else {
            source
        };
        return judging
            .fetcher
            .status_list_cwt(url, &judging.root, list)
            .ok_or_else(lost);
    }
    let bytes = read_bounded(Path::new(source), MAX_STATUS_FILE_BYTES, "status list")?;
    match status::authenticate(&bytes, &judging.root) {
        Ok(read) if read == *list => Ok(bytes),
        _ => Err(lost()),
    }
}

/// Writes the evidence bundle of a `check` (through a temporary file: all or nothing).
fn write_evidence(
    path: &Path,
    pdf: &[u8],
    common: &CommonArgs,
    judging: &Judging,
    used: &StatusUsed<'_>,
    report: &Report,
) -> Result<(), Fatal> {
    let root_pem = read_bounded(&common.trust, 64 * 1024, "trust anchor")?;
    let cwt = match used.acquired {
        Acquired::List(list) => Some(used_cwt(judging, used, list)?),
        _ => None,
    };
    let status = match (used.acquired, &cwt) {
        (Acquired::Unavailable(why), _) => evidence::StatusUsed::Unavailable(why),
        (_, Some(cwt)) => evidence::StatusUsed::List(cwt),
        _ => evidence::StatusUsed::None,
    };
    let bundle = evidence::write(pdf, &root_pem, status, report.checked_at, report)
        .map_err(|e| Fatal(e.to_string()))?;
    let temp = path.with_extension("evidence-tmp");
    std::fs::write(&temp, &bundle)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            Fatal(format!("{}: {e}", path.display()))
        })
}

/// `verifier replay`: exit 0 when the replayed verdict is VALID, 1 for any other, 2 when the
/// bundle is refused.
fn replay(args: &ReplayArgs) -> ExitCode {
    let run = || -> Result<Report, Fatal> {
        let bytes = read_bounded(&args.file, evidence::MAX_BUNDLE_BYTES, "evidence bundle")?;
        let pdf = args
            .pdf
            .as_deref()
            .map(|p| read_bounded(p, args.limits.max_file_bytes, "certificate"))
            .transpose()?;
        let root = args
            .trust
            .as_deref()
            .map(|p| read_bounded(p, 64 * 1024, "trust anchor"))
            .transpose()?;
        evidence::replay(
            &bytes,
            pdf.as_deref(),
            root.as_deref(),
            &args.limits.pdf_limits(),
        )
        .map_err(|e| Fatal(e.to_string()))
    };
    finish(run(), args.json)
}

/// The human-readable report.
fn human(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let verdict = serde_json::to_value(report.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = writeln!(out, "verdict: {verdict}");
    if let Some(cert) = &report.certificate {
        let until = ccr_pki::validity::in_macao(cert.valid_until);
        let _ = writeln!(
            out,
            "certificate {} for {} (valid until {until})",
            cert.number, cert.name_latin
        );
    }
    if let Some(age) = report.status.as_ref().and_then(|s| s.age_seconds) {
        let _ = writeln!(out, "status list age: {age} s");
    }
    for check in &report.checks {
        let mark = match check.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
        };
        let _ = writeln!(out, "  [{mark}] {}: {}", check.name, check.detail);
    }
    out
}

/// Writes to stdout; a closed pipe (`verifier … | head`) is not an error worth a panic.
fn emit(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `verifier serve`: runs until stopped; exit code 2 if it cannot start.
fn serve(args: &ServeArgs) -> ExitCode {
    let started = (|| {
        let pem = read_bounded(&args.trust, 64 * 1024, "trust anchor")?;
        let root = TrustRoot::from_pem(&pem)
            .map_err(|e| Fatal(format!("{}: {e}", args.trust.display())))?;
        let issuer = issuer_option(args.issuer.as_deref())?;
        if !(1..=MAX_CONCURRENT).contains(&args.max_concurrent)
            || args.max_body_bytes == 0
            || !(1..=MAX_TIMEOUT_MS).contains(&args.timeout_ms)
        {
            return Err(Fatal(format!(
                "--max-concurrent must be 1 to {MAX_CONCURRENT}, --timeout-ms 1 to \
                 {MAX_TIMEOUT_MS}, and --max-body-bytes positive"
            )));
        }
        let connections = ccr_web::ConnectionLimits::new(
            std::time::Duration::from_millis(args.header_read_timeout_ms),
            args.max_connections,
        )
        .map_err(|e| Fatal(format!("--header-read-timeout-ms, --max-connections: {e}")))?;
        let config = ccr_verifier::server::Config {
            connections,
            root,
            issuer,
            max_body_bytes: args.max_body_bytes,
            max_concurrent: args.max_concurrent,
            timeout: std::time::Duration::from_millis(args.timeout_ms),
            limits: args.limits.pdf_limits(),
        };
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        if let Some(threads) = args.threads.filter(|n| *n > 0) {
            runtime.worker_threads(threads);
        }
        // Blocking threads run the verifications, which the semaphore already bounds; the
        // margin serves the trust endpoint.
        runtime.max_blocking_threads(args.max_concurrent.saturating_add(8));
        let runtime = runtime
            .enable_all()
            .build()
            .map_err(|e| Fatal(format!("cannot start the runtime: {e}")))?;
        runtime
            .block_on(ccr_verifier::server::bind_and_serve(config, args.listen))
            .map_err(|e| Fatal(format!("cannot serve on {}: {e}", args.listen)))
    })();
    match started {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fatal(message)) => {
            eprintln!("verifier: {message}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let common = match (&cli.command, cli.command.common()) {
        (Command::Serve(args), _) => return serve(args),
        (Command::Receive(args), _) => return ccr_verifier::receive::run_cli(args),
        (Command::Replay(args), _) => return replay(args),
        (_, Some(common)) => common,
        (_, None) => return ExitCode::from(2),
    };
    finish(run(&cli.command, common), common.json)
}

/// Prints a report (or the fatal error) and gives the exit code (SPEC §6).
fn finish(result: Result<Report, Fatal>, json: bool) -> ExitCode {
    match result {
        Ok(report) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => emit(&format!("{text}\n")),
                    Err(e) => {
                        eprintln!("verifier: cannot encode the report: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                emit(&human(&report));
            }
            if report.verdict == Verdict::Valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(Fatal(message)) => {
            eprintln!("verifier: {message}");
            ExitCode::from(2)
        }
    }
}
