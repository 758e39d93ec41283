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
use ccr_verifier::check::{CheckContext, check_pdf, check_token};
use ccr_verifier::report::{Outcome, Report, Verdict};
use ccr_verifier::status;

/// Largest status list file read.
const MAX_STATUS_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// How far the device clock may lag a signed `iat` before it is refused (clock skew).
const CLOCK_SKEW: time::Duration = time::Duration::seconds(60);

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
    /// A signed status list file.
    #[arg(long)]
    status: Option<String>,
    /// Judge at this instant (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// Print the JSON report only.
    #[arg(long)]
    json: bool,
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
    },
    /// Verify a QR token alone (the paper certificate's path), offline.
    Token {
        /// The token: the URL read from the QR code, or its base64url part.
        token: String,
        #[command(flatten)]
        common: CommonArgs,
        /// The issuer's trust bundle (PEM: issuing CA, token-signing and TSA certificates).
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
}

impl Command {
    fn common(&self) -> &CommonArgs {
        match self {
            Self::Check { common, .. } | Self::Token { common, .. } => common,
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

/// The trust anchor, the authenticated status list and the instant, from the common options.
struct Judging {
    root: TrustRoot,
    status_list: Option<ccr_pki::status_list::SignedStatusList>,
    at: OffsetDateTime,
}

fn judging(common: &CommonArgs) -> Result<Judging, Fatal> {
    let root_pem = read_bounded(&common.trust, 64 * 1024, "trust anchor")?;
    let root = TrustRoot::from_pem(&root_pem)
        .map_err(|e| Fatal(format!("{}: {e}", common.trust.display())))?;
    let explicit_at = common
        .at
        .as_deref()
        .map(|text| {
            OffsetDateTime::parse(text, &Rfc3339)
                .map_err(|e| Fatal(format!("--at {text:?} is not RFC 3339: {e}")))
        })
        .transpose()?;
    let status_list = match common.status.as_deref() {
        None => None,
        Some(source)
            if source == "online"
                || source.starts_with("http://")
                || source.starts_with("https://") =>
        {
            return Err(Fatal(format!(
                "--status {source}: fetching status lists is not available in this version; pass a file from `issuer export-trust`"
            )));
        }
        Some(path) => {
            let bytes = read_bounded(Path::new(path), MAX_STATUS_FILE_BYTES, "status list")?;
            Some(status::authenticate(&bytes, &root).map_err(|e| Fatal(format!("{path}: {e}")))?)
        }
    };
    let now = OffsetDateTime::now_utc();
    // The signed clock floor: a device clock earlier than a signed iat is wrong.
    if let Some(list) = status_list
        .as_ref()
        .filter(|l| explicit_at.is_none() && now + CLOCK_SKEW < l.issued_at)
    {
        return Err(Fatal(format!(
            "this device's clock ({now}) is earlier than the status list's signed time ({}); correct the clock",
            list.issued_at
        )));
    }
    Ok(Judging {
        root,
        status_list,
        at: explicit_at.unwrap_or(now),
    })
}

fn run(command: &Command) -> Result<Report, Fatal> {
    let judging = judging(command.common())?;
    match command {
        Command::Check { file, limits, .. } => {
            let pdf_limits = Limits {
                max_file_bytes: limits.max_file_bytes,
                max_nesting: limits.max_nesting,
                max_objects: limits.max_objects,
                max_decompressed_bytes: limits.max_decompressed_bytes,
                ..Limits::default()
            };
            // Read one byte past the limit so an oversize file is reported as such, never loaded.
            let bytes = read_bounded(file, limits.max_file_bytes, "certificate")?;
            let ctx = CheckContext {
                root: &judging.root,
                status_list: judging.status_list.as_ref(),
                at: judging.at,
                limits: &pdf_limits,
            };
            Ok(check_pdf(&bytes, &ctx))
        }
        Command::Token { token, bundle, .. } => {
            let bytes = ccr_pki::token::from_url_or_text(token)
                .map_err(|e| Fatal(format!("the token argument: {e}")))?;
            let bundle = match bundle {
                Some(path) => {
                    let pem = read_bounded(path, 256 * 1024, "trust bundle")?;
                    ccr_pki::hierarchy::pem_chain_to_der(&pem)
                        .map_err(|e| Fatal(format!("{}: {e}", path.display())))?
                }
                None => Vec::new(),
            };
            let limits = Limits::default();
            let ctx = CheckContext {
                root: &judging.root,
                status_list: judging.status_list.as_ref(),
                at: judging.at,
                limits: &limits,
            };
            Ok(check_token(&bytes, &bundle, &ctx))
        }
    }
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
        let until = cert.valid_until.to_offset(ccr_pki::validity::MACAO);
        let _ = writeln!(
            out,
            "certificate {} for {} (valid until {until})",
            cert.number, cert.name_latin
        );
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.command.common().json;
    match run(&cli.command) {
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
