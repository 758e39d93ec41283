//! `issuer`: the bureau's command line (SPEC §6).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ccr_issuer::bureau::{Bureau, BureauError};
use ccr_issuer::setup::home::Home;
use ccr_pki::status_list::Status;

/// Issues and manages electronic Certificates of Criminal Record.
#[derive(Debug, Parser)]
#[command(name = "issuer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct HomeArg {
    /// The issuer home (default `$ISSUER_HOME` or `./issuer-home`).
    #[arg(long)]
    home: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// The certificate number.
    cert_no: String,
    /// Why (recorded with who and when).
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    home: HomeArg,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the home folder: configuration, registry and a development PKI.
    Init {
        #[command(flatten)]
        home: HomeArg,
        /// Where the issuer's public endpoints are reached.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Issue one certificate from a certificate request.
    Issue {
        /// The request (JSON, `schemas/certificate-request.schema.json`).
        #[arg(long)]
        request: PathBuf,
        /// Where to write the signed PDF.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        home: HomeArg,
        /// The issue instant (RFC 3339; default now).
        #[arg(long)]
        issued_at: Option<String>,
    },
    /// Re-issue a certificate: a new certificate with the same content, the old one SUPERSEDED.
    Reissue {
        /// The certificate to replace.
        cert_no: String,
        /// Why (recorded with who and when).
        #[arg(long)]
        reason: String,
        /// Where to write the new signed PDF.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Revoke a certificate.
    Revoke(StatusArgs),
    /// Suspend a certificate.
    Suspend(StatusArgs),
    /// Lift a suspension.
    Reinstate(StatusArgs),
    /// Run the issuer's public endpoints (status lists, trust bundle, CRLs, health); creates
    /// the home with a development PKI on first start.
    Serve {
        #[command(flatten)]
        home: HomeArg,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Registry database (`sqlite://…`; default inside the home).
        #[arg(long)]
        database: Option<String>,
    },
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Check the audit log's hash chain (exit 1 and the first broken entry if it is broken).
    AuditVerify {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Write root.pem, bundle.pem and the signed status lists for offline verifiers.
    ExportTrust {
        /// The output folder.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        home: HomeArg,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a staff account; the password is read from standard input (first line).
    Add {
        /// Sign-in name.
        username: String,
        /// `clerk`, `officer` or `security_officer`.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        home: HomeArg,
        /// Registry database (default inside the home).
        #[arg(long)]
        database: Option<String>,
    },
}

/// Who performs a command-line status change, for the record.
fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

async fn run(cli: Cli) -> Result<(), BureauError> {
    match cli.command {
        Command::Init { home, public_url } => {
            let home = Home::locate(home.home);
            home.init(&public_url, OffsetDateTime::now_utc())?;
            // Create the registry's tables and department registry now, so that the first
            // issuance changes nothing but what it records.
            Bureau::open(home.clone(), None).await?;
            println!(
                "initialised {} with a DEVELOPMENT PKI (not for production)",
                home.dir().display()
            );
        }
        Command::Issue {
            request,
            out,
            home,
            issued_at,
        } => {
            let issued_at = match issued_at {
                Some(text) => OffsetDateTime::parse(&text, &Rfc3339)
                    .map_err(|e| {
                        BureauError::Usage(format!("--issued-at {text:?} is not RFC 3339: {e}"))
                    })
                    .and_then(|at| {
                        ccr_pki::validity::check_instant("--issued-at", at)
                            .map_err(BureauError::Usage)
                    })?,
                None => OffsetDateTime::now_utc(),
            };
            let bytes = std::fs::read(&request).map_err(|e| BureauError::Io {
                path: request.clone(),
                message: e.to_string(),
            })?;
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let issued = bureau
                .issue(&cli_actor(), &bytes, issued_at, Some(&out))
                .await?;
            println!("wrote {} ({} bytes)", out.display(), issued.pdf.len());
            println!("{}", issued.number);
        }
        Command::Serve {
            home,
            listen,
            database,
        } => {
            let home = Home::locate(home.home);
            if !home.exists() {
                home.init(&format!("http://{listen}"), OffsetDateTime::now_utc())?;
                eprintln!(
                    "issuer: created {} with a DEVELOPMENT PKI (not for production)",
                    home.dir().display()
                );
            }
            let bureau = Bureau::open(home, database.as_deref()).await?;
            ccr_issuer::http::server::serve(bureau, listen).await?;
        }
        Command::Reissue {
            cert_no,
            reason,
            out,
            home,
        } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let issued = bureau
                .reissue(&cert_no, &cli_actor(), &reason, Some(&out))
                .await?;
            println!(
                "{cert_no} is now SUPERSEDED; wrote {} ({} bytes)",
                out.display(),
                issued.pdf.len()
            );
            println!("{}", issued.number);
        }
        Command::Staff {
            command:
                StaffCommand::Add {
                    username,
                    role,
                    home,
                    database,
                },
        } => {
            let role = ccr_issuer::identity::auth::Role::parse(&role)
                .filter(|r| r.is_staff())
                .ok_or_else(|| {
                    BureauError::Usage(format!(
                        "--role {role:?}: use clerk, officer or security_officer"
                    ))
                })?;
            let valid_name = (3..=64).contains(&username.len())
                && username
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !valid_name {
                return Err(BureauError::Usage(
                    "the username must be 3 to 64 of a-z, A-Z, 0-9, '.', '_', '-'".into(),
                ));
            }
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| BureauError::Usage(format!("cannot read the password: {e}")))?;
            let hash =
                ccr_issuer::identity::auth::hash_password(password.trim_end_matches(['\r', '\n']))
                    .map_err(BureauError::Usage)?;
            let bureau = Bureau::open(Home::locate(home.home), database.as_deref()).await?;
            bureau
                .store()
                .add_staff(
                    &username,
                    role.as_str(),
                    &hash,
                    &cli_actor(),
                    OffsetDateTime::now_utc(),
                )
                .await?;
            println!("created {} account {username}", role.as_str());
        }
        Command::AuditVerify { home } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let count = bureau.verify_audit().await?;
            println!("audit log intact: {count} entries, hash chain verified");
        }
        Command::Revoke(args) => change(args, Status::Revoked).await?,
        Command::Suspend(args) => change(args, Status::Suspended).await?,
        Command::Reinstate(args) => change(args, Status::Valid).await?,
        Command::ExportTrust { out, home } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            for path in bureau.export_trust(&out).await? {
                println!("{}", path.display());
            }
        }
    }
    Ok(())
}

async fn change(args: StatusArgs, status: Status) -> Result<(), BureauError> {
    let bureau = Bureau::open(Home::locate(args.home.home), None).await?;
    bureau
        .change_status(&args.cert_no, status, &cli_actor(), &args.reason)
        .await?;
    println!("{} is now {}", args.cert_no, status.name());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("issuer: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("issuer: {e}");
            ExitCode::FAILURE
        }
    }
}
