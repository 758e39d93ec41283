//! `issuer`: the bureau's command line (SPEC §6).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ccr_issuer::bureau::{Bureau, BureauError};
use ccr_issuer::setup::home::{CaRotation, Home};
use ccr_issuer::setup::keystore::Role;
use ccr_issuer::setup::lifecycle::KeyEntry;
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
    /// Create the home folder: configuration, registry and a development PKI. With
    /// --pkcs11-module, --token-label and --pin-file, every online role's key is generated in
    /// that PKCS#11 token (no private-key file for them); the development root stays in the home.
    Init {
        #[command(flatten)]
        home: HomeArg,
        /// Where the issuer's public endpoints are reached.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
        /// PKCS#11 module holding the online keys (e.g. /usr/lib/softhsm/libsofthsm2.so).
        #[arg(long, requires_all = ["token_label", "pin_file"])]
        pkcs11_module: Option<PathBuf>,
        /// Label of the token (tokens are found by label, not slot).
        #[arg(long, requires = "pkcs11_module")]
        token_label: Option<String>,
        /// File (mode 0600) holding the token's user PIN.
        #[arg(long, requires = "pkcs11_module")]
        pin_file: Option<PathBuf>,
        /// The root is offline (SPEC §10): make no root here; write the issuing CA's
        /// certification request (pki/issuing-ca.csr.pem) for `issuer root sign-ca`, then
        /// complete the home with `issuer install-ca`.
        #[arg(long)]
        offline_root: bool,
    },
    /// Complete a home made with `init --offline-root` with its issuing CA's certificate,
    /// signed by the offline root, the root's certificate and its CRL; or end a rotation of
    /// the issuing CA (`issuer keys rotate issuing-ca`) with the next CA's certificate.
    InstallCa {
        /// The issuing CA's certificate (PEM or DER) from `issuer root sign-ca`.
        #[arg(long)]
        certificate: PathBuf,
        /// The root's certificate (root.pem of the root's folder).
        #[arg(long)]
        root: PathBuf,
        /// The root's current CRL (root.crl of the root's folder).
        #[arg(long)]
        crl: PathBuf,
        /// For a rotation: seconds the new CA and its end entities are published before
        /// they sign (default: one bundle cache period).
        #[arg(long, default_value_t = 3600)]
        publish_for: i64,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Install a newer CRL of the offline root (refused unless signed by the home's root and
    /// numbered above the installed one); served at /crl/root.crl.
    InstallRootCrl {
        /// The CRL (root.crl of the root's folder).
        crl: PathBuf,
        #[command(flatten)]
        home: HomeArg,
    },
    /// The offline root's own commands, run on the root's machine against its folder.
    Root {
        #[command(subcommand)]
        command: RootCommand,
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
    /// Manage the people of a department who use the department portal.
    DepartmentUser {
        #[command(subcommand)]
        command: DepartmentUserCommand,
    },
    /// Register departments' push endpoints for transfers (SPEC §9).
    Department {
        #[command(subcommand)]
        command: DepartmentCommand,
    },
    /// Check the audit log's hash chain (exit 1 and the first broken entry if it is broken).
    AuditVerify {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Add a document time-stamp from the bureau's TSA to a certificate PDF (PAdES B-LTA, the
    /// archive copy).
    Timestamp {
        /// The signed certificate PDF.
        input: PathBuf,
        /// Where to write the time-stamped copy.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Write the bureau's B-LTA archive copy of a certificate (kept at issuance when
    /// `[archive] document_timestamp = true`).
    Archive {
        /// The certificate number.
        number: String,
        /// Where to write the archive copy.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        home: HomeArg,
    },
    /// The bureau's keys (SPEC §10): list them, rotate a role, retire a key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
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

#[derive(Debug, clap::Args)]
struct RootHomeArg {
    /// The offline root's folder (made by `issuer root init`).
    #[arg(long)]
    root_home: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
enum RootCommand {
    /// Create the root's folder: a root key (mode 0600), its self-signed certificate and a
    /// first CRL.
    Init {
        #[command(flatten)]
        root_home: RootHomeArg,
        /// The issuer's public URL (where the root's CRL is published).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Certify the issuing CA key of a certification request (from `issuer init
    /// --offline-root`) after checking the key signed it.
    SignCa {
        #[command(flatten)]
        root_home: RootHomeArg,
        /// The request (PEM or DER).
        #[arg(long)]
        request: PathBuf,
        /// Where to write the certificate (PEM).
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke an issuing CA the root certified, and sign a new CRL (root.crl).
    Revoke {
        #[command(flatten)]
        root_home: RootHomeArg,
        /// The issuing CA's serial number (hex, as `issuer root list` shows it).
        serial: String,
        /// From when it is no longer trusted (RFC 3339).
        #[arg(long)]
        since: String,
        /// Why.
        #[arg(long, value_enum)]
        reason: ccr_issuer::setup::root::CaRevocationReason,
    },
    /// Sign a new CRL (root.crl) before the current one's next update.
    Crl {
        #[command(flatten)]
        root_home: RootHomeArg,
    },
    /// The issuing CAs the root certified, and their revocations (JSON).
    List {
        #[command(flatten)]
        root_home: RootHomeArg,
    },
}

/// `issuer root …`: the offline root's folder, on the root's machine.
fn root(command: RootCommand) -> Result<(), BureauError> {
    use ccr_issuer::setup::root::RootHome;
    let now = OffsetDateTime::now_utc();
    match command {
        RootCommand::Init {
            root_home,
            public_url,
        } => {
            let root = RootHome::at(root_home.root_home);
            root.create(&public_url, now)?;
            println!(
                "created the root in {} (its key is root.key.p8: keep this folder offline)",
                root.dir().display()
            );
            println!("{}", root.root_pem().display());
        }
        RootCommand::SignCa {
            root_home,
            request,
            out,
        } => {
            let root = RootHome::at(root_home.root_home);
            let bytes = std::fs::read(&request)
                .map_err(|e| BureauError::Usage(format!("{}: {e}", request.display())))?;
            let (der, issued) = root.sign_issuing_ca(&bytes, now)?;
            let pem = ccr_pki::hierarchy::der_to_pem("CERTIFICATE", &der)
                .map_err(|e| BureauError::Usage(e.to_string()))?;
            std::fs::write(&out, pem)
                .map_err(|e| BureauError::Usage(format!("{}: {e}", out.display())))?;
            println!(
                "certified issuing CA key {} (serial {})",
                issued.key_id, issued.serial
            );
            println!("{}", out.display());
        }
        RootCommand::Revoke {
            root_home,
            serial,
            since,
            reason,
        } => {
            let since = parse_instant("--since", &since)?;
            let root = RootHome::at(root_home.root_home);
            root.revoke(&serial, since, reason, now)?;
            println!("{}", root.crl_path().display());
        }
        RootCommand::Crl { root_home } => {
            let root = RootHome::at(root_home.root_home);
            root.crl(now)?;
            println!("{}", root.crl_path().display());
        }
        RootCommand::List { root_home } => {
            let issued = RootHome::at(root_home.root_home).issued()?;
            println!(
                "{}",
                serde_json::to_string_pretty(&issued)
                    .map_err(|e| BureauError::Usage(e.to_string()))?
            );
        }
    }
    Ok(())
}

/// An RFC 3339 instant given on the command line as `flag`, within the range instants may take.
fn parse_instant(flag: &str, text: &str) -> Result<OffsetDateTime, BureauError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| BureauError::Usage(format!("{flag} {text:?} is not RFC 3339: {e}")))
        .and_then(|at| ccr_pki::validity::check_instant(flag, at).map_err(BureauError::Usage))
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Every key of every role, with its state and window.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Generate the next key of ROLE (issuing-ca, document-signer, tsa, token-signer or
    /// transfer-signer) in the store the configuration names, certify it and publish it; it
    /// signs after the publication period. The issuing CA rotates with a new key for every
    /// end entity; under an offline root it first writes the request for the root.
    Rotate {
        /// The role.
        role: String,
        /// Seconds the new key is published before it signs (default: one bundle cache
        /// period, 3600, so that every verifier knows it first).
        #[arg(long, default_value_t = 3600)]
        publish_for: i64,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Declare ROLE's key compromised as of --since: revoke it (keyCompromise), rotate to a
    /// fresh key at once, re-issue every current certificate that depended on it (the old
    /// ones SUPERSEDED) and publish. The security officer's playbook: docs/key-compromise.md.
    Compromise {
        /// The role (document-signer, tsa, token-signer or transfer-signer).
        role: String,
        /// From when the key is no longer trusted (RFC 3339).
        #[arg(long)]
        since: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
        /// Print what was done as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Retire KEY_ID now: it signs nothing more, and stays in the bundle for what it signed.
    Retire {
        /// The key id (hex, as `issuer keys list` shows it).
        key_id: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        home: HomeArg,
    },
}

#[derive(Debug, clap::Args)]
struct EndpointArgs {
    /// The department's code, e.g. DSAL.
    code: String,
    /// Where transfers are POSTed (https://, or http:// to a loopback address).
    #[arg(long)]
    endpoint: String,
    /// The public key (PEM, Ed25519 or P-256) the department signs its receipts with.
    #[arg(long)]
    receipt_key: PathBuf,
    #[command(flatten)]
    home: HomeArg,
    /// Registry database (default inside the home).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Debug, clap::Args)]
struct DepartmentArgs {
    /// The department's code, e.g. DSAL.
    code: String,
    #[command(flatten)]
    home: HomeArg,
    /// Registry database (default inside the home).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum DepartmentCommand {
    /// Register a new department (named by its code until staff name it) with its endpoint
    /// and receipt key.
    Add(EndpointArgs),
    /// Change a registered department's endpoint and receipt key.
    SetEndpoint(EndpointArgs),
    /// Stop deliveries to a department (they stay queued; applicants and staff see why).
    Deactivate(DepartmentArgs),
    /// Resume deliveries to a deactivated department.
    Activate(DepartmentArgs),
}

/// `issuer department …`: the bureau's use cases, nothing of its own.
async fn department(command: DepartmentCommand) -> Result<(), BureauError> {
    let case = |e: ccr_issuer::bureau::CaseError| BureauError::Usage(e.to_string());
    let open = |home: HomeArg, database: Option<String>| async move {
        Bureau::open(Home::locate(home.home), database.as_deref()).await
    };
    match command {
        DepartmentCommand::Add(args) => {
            let pem = read_key(&args.receipt_key)?;
            let bureau = open(args.home, args.database).await?;
            bureau
                .add_department(
                    &args.code,
                    &ccr_issuer::bureau::departments::Names::default(),
                    &args.endpoint,
                    &pem,
                    &cli_actor(),
                )
                .await
                .map_err(case)?;
            println!(
                "{} registered; receives transfers at {}",
                args.code, args.endpoint
            );
        }
        DepartmentCommand::SetEndpoint(args) => {
            let pem = read_key(&args.receipt_key)?;
            let bureau = open(args.home, args.database).await?;
            bureau
                .set_department_endpoint(&args.code, &args.endpoint, &pem, &cli_actor())
                .await
                .map_err(case)?;
            println!("{} receives transfers at {}", args.code, args.endpoint);
        }
        DepartmentCommand::Deactivate(args) => {
            let bureau = open(args.home, args.database).await?;
            bureau
                .set_department_active(&args.code, false, &cli_actor())
                .await
                .map_err(case)?;
            println!("{} deactivated: its deliveries wait", args.code);
        }
        DepartmentCommand::Activate(args) => {
            let bureau = open(args.home, args.database).await?;
            bureau
                .set_department_active(&args.code, true, &cli_actor())
                .await
                .map_err(case)?;
            println!("{} active: its deliveries resume", args.code);
        }
    }
    Ok(())
}

fn read_key(path: &std::path::Path) -> Result<String, BureauError> {
    std::fs::read_to_string(path).map_err(|e| BureauError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    })
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

#[derive(Debug, Subcommand)]
enum DepartmentUserCommand {
    /// Create a department user; the password is read from standard input (first line).
    Add {
        /// The department's code (e.g. DSAL).
        department: String,
        /// Sign-in name.
        username: String,
        #[command(flatten)]
        home: HomeArg,
        /// Registry database (default inside the home).
        #[arg(long)]
        database: Option<String>,
    },
}

/// The first line of standard input (a password).
fn password_from_stdin() -> Result<String, BureauError> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| BureauError::Usage(format!("cannot read the password: {e}")))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// Shows a new account's second factor (once).
fn print_enrolment(enrolment: &ccr_issuer::bureau::people::Enrolment) {
    println!(
        "second factor (shown once; add it to the user's authenticator app):\n  key: {}\n  {}",
        enrolment.secret.base32(),
        enrolment.uri
    );
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
        Command::Init {
            home,
            public_url,
            pkcs11_module,
            token_label,
            pin_file,
            offline_root,
        } => {
            let home = Home::locate(home.home);
            let token = match (pkcs11_module, token_label, pin_file) {
                (Some(module), Some(token_label), Some(pin_file)) => {
                    Some(ccr_issuer::setup::keystore::Pkcs11Config {
                        module,
                        token_label,
                        pin_file,
                    })
                }
                _ => None,
            };
            if offline_root {
                let request = home.init_for_offline_root(
                    &public_url,
                    OffsetDateTime::now_utc(),
                    token.as_ref(),
                )?;
                println!(
                    "initialised {} for an OFFLINE ROOT: no root key here; it issues nothing yet",
                    home.dir().display()
                );
                println!(
                    "next: on the root's machine `issuer root sign-ca --root-home ROOT --request \
                     {} --out issuing-ca.pem`, then here `issuer install-ca --certificate \
                     issuing-ca.pem --root ROOT/root.pem --crl ROOT/root.crl`",
                    request.display()
                );
                println!("{}", request.display());
                return Ok(());
            }
            home.init_with_token(&public_url, OffsetDateTime::now_utc(), token.as_ref())?;
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
            let first_start = !home.exists();
            if first_start {
                home.init(&format!("http://{listen}"), OffsetDateTime::now_utc())?;
                eprintln!(
                    "issuer: created {} with a DEVELOPMENT PKI (not for production)",
                    home.dir().display()
                );
            }
            let bureau = Bureau::open(home, database.as_deref()).await?;
            if first_start && bureau.config().providers.any_development() {
                let accounts = bureau.create_development_accounts().await?;
                eprintln!(
                    "issuer: DEVELOPMENT accounts for the back office and the department portal \
                     (passwords and second-factor keys in {}):",
                    bureau
                        .home()
                        .dir()
                        .join("DEVELOPMENT-ACCOUNTS.txt")
                        .display()
                );
                for a in &accounts {
                    eprintln!("  {:<22} {}", a.what, a.enrolment.username);
                }
            }
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
            let password = password_from_stdin()?;
            let bureau = Bureau::open(Home::locate(home.home), database.as_deref()).await?;
            let enrolment = bureau
                .add_staff(&username, role, &password, &cli_actor())
                .await?;
            println!("created {} account {username}", role.as_str());
            print_enrolment(&enrolment);
        }
        Command::DepartmentUser {
            command:
                DepartmentUserCommand::Add {
                    department,
                    username,
                    home,
                    database,
                },
        } => {
            let password = password_from_stdin()?;
            let bureau = Bureau::open(Home::locate(home.home), database.as_deref()).await?;
            let enrolment = bureau
                .add_department_user(&username, &department, &password, &cli_actor())
                .await?;
            println!("created {department} user {username}");
            print_enrolment(&enrolment);
        }
        Command::Department { command } => department(command).await?,
        Command::AuditVerify { home } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let count = bureau.verify_audit().await?;
            println!("audit log intact: {count} entries, hash chain verified");
        }
        Command::Revoke(args) => change(args, Status::Revoked).await?,
        Command::Suspend(args) => change(args, Status::Suspended).await?,
        Command::Reinstate(args) => change(args, Status::Valid).await?,
        Command::Timestamp { input, out, home } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let len = bureau.archive_timestamp(&input, &out)?;
            println!("wrote {} ({len} bytes)", out.display());
        }
        Command::Archive { number, out, home } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let len = bureau.export_archive_copy(&number, &out).await?;
            println!("wrote {} ({len} bytes)", out.display());
        }
        Command::Keys { command } => keys(command).await?,
        Command::Root { command } => root(command)?,
        Command::InstallCa {
            certificate,
            root,
            crl,
            publish_for,
            home,
        } => {
            let read = |path: &PathBuf| {
                std::fs::read(path)
                    .map_err(|e| BureauError::Usage(format!("{}: {e}", path.display())))
            };
            let home = Home::locate(home.home);
            if !home.awaits_issuing_ca() && home.next_issuing_ca_request().exists() {
                let bureau = Bureau::open(home, None).await?;
                let entries = bureau
                    .install_next_issuing_ca(
                        &read(&certificate)?,
                        &read(&crl)?,
                        time::Duration::seconds(publish_for),
                        &cli_actor(),
                        OffsetDateTime::now_utc(),
                    )
                    .await?;
                print_published(&entries);
                return Ok(());
            }
            home.install_issuing_ca(
                &read(&root)?,
                &read(&certificate)?,
                &read(&crl)?,
                OffsetDateTime::now_utc(),
            )?;
            // Create the registry's tables now, as `issuer init` does.
            Bureau::open(home.clone(), None).await?;
            println!(
                "installed the issuing CA; {} issues under the offline root",
                home.dir().display()
            );
        }
        Command::InstallRootCrl { crl, home } => {
            let bytes = std::fs::read(&crl)
                .map_err(|e| BureauError::Usage(format!("{}: {e}", crl.display())))?;
            let number = Home::locate(home.home).install_root_crl(&bytes)?;
            println!("installed root CRL number {number}");
        }
        Command::ExportTrust { out, home } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            for path in bureau.export_trust(&out).await? {
                println!("{}", path.display());
            }
        }
    }
    Ok(())
}

async fn keys(command: KeysCommand) -> Result<(), BureauError> {
    let now = OffsetDateTime::now_utc();
    match command {
        KeysCommand::List { json, home } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let (sequence, lines) = bureau.keys(now)?;
            if json {
                let out = serde_json::json!({ "sequence": sequence, "keys": lines });
                println!("{out:#}");
                return Ok(());
            }
            println!("key registry, sequence {sequence}");
            println!(
                "{:<16} {:<16} {:<10} {:<26} {:<26} compromised since",
                "role", "key id", "state", "active from", "retired at"
            );
            let show =
                |t: Option<OffsetDateTime>| t.map_or_else(|| "-".to_owned(), |t| t.to_string());
            for line in lines {
                let key = &line.entry;
                println!(
                    "{:<16} {:<16} {:<10} {:<26} {:<26} {}",
                    key.role.name(),
                    key.key_id,
                    line.state,
                    show(key.active_from),
                    show(key.retired_at),
                    show(key.compromised_since)
                );
            }
        }
        KeysCommand::Rotate {
            role,
            publish_for,
            home,
        } => {
            let role = parse_role(&role)?;
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            if role == Role::IssuingCa {
                let publication = time::Duration::seconds(publish_for);
                match bureau
                    .rotate_issuing_ca(publication, &cli_actor(), now)
                    .await?
                {
                    CaRotation::Published(entries) => print_published(&entries),
                    CaRotation::AwaitingRoot { request } => println!(
                        "issuing-ca: the next CA's key is made; its request is {req}. On the \
                         root's machine: `issuer root sign-ca --root-home ROOT --request {req} \
                         --out next-ca.pem`, then here `issuer install-ca --certificate \
                         next-ca.pem --root ROOT/root.pem --crl ROOT/root.crl --publish-for {publish_for}`",
                        req = request.display()
                    ),
                }
                return Ok(());
            }
            let entry = bureau
                .rotate_key(
                    role,
                    time::Duration::seconds(publish_for),
                    &cli_actor(),
                    now,
                )
                .await?;
            print_published(std::slice::from_ref(&entry));
        }
        KeysCommand::Compromise {
            role,
            since,
            reason,
            json,
            home,
        } => {
            let role = parse_role(&role)?;
            let since = OffsetDateTime::parse(&since, &Rfc3339)
                .map_err(|e| BureauError::Usage(format!("--since {since:?}: {e}")))?;
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let done = bureau
                .compromise_key(role, since, &reason, &cli_actor(), now)
                .await?;
            if json {
                println!("{}", serde_json::json!(done));
            } else {
                println!(
                    "{role}: key(s) {} declared compromised as of {since}; key {} now signs; {} certificate(s) re-issued",
                    done.compromised.join(", "),
                    done.replacement,
                    done.reissued.len()
                );
            }
        }
        KeysCommand::Retire {
            key_id,
            reason,
            home,
        } => {
            let bureau = Bureau::open(Home::locate(home.home), None).await?;
            let role = bureau
                .retire_key(&key_id, &reason, &cli_actor(), now)
                .await?;
            println!("{role}: key {key_id} retired");
        }
    }
    Ok(())
}

/// One line per key a rotation published.
fn print_published(entries: &[KeyEntry]) {
    for entry in entries {
        println!(
            "{}: key {} published; it signs from {}",
            entry.role,
            entry.key_id,
            entry
                .active_from
                .map_or_else(String::new, |t| t.to_string())
        );
    }
}

fn parse_role(name: &str) -> Result<Role, BureauError> {
    Role::parse(name).ok_or_else(|| {
        BureauError::Usage(format!(
            "unknown role {name:?}: one of issuing-ca, document-signer, tsa, token-signer, transfer-signer"
        ))
    })
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
