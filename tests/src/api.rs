//! The issuer's application API, driven over HTTP: a small JSON client, a running
//! `issuer serve` with staff accounts, and throw-away PostgreSQL databases.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::{Server, Workspace, bin_command, free_port, spawn_logged_until_healthy};
pub use ccr_issuer::identity::totp::{Secret, step_of};

/// The password given to every test staff account.
pub const STAFF_PASSWORD: &str = "correct horse battery staple";

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Content type.
    pub content_type: String,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Response headers, names in lower case, in order (empty where not recorded).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// Every value of header `name` (lower case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// The body as JSON (panics with the body when it is not).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status, showing the body otherwise.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// The error message of an API error body.
    pub fn message(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned())
    }
}

/// A JSON client of one service.
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    agent: ureq::Agent,
}

impl Api {
    /// A client of the service on `port`.
    pub fn new(port: u16) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .max_redirects(0)
            // No connection is reused. The server answers a refusal (401, 403, 413) before it
            // has read the request's body and then closes the connection (hyper reads once to
            // drain, then gives up); a pooled connection taken before that close reaches the
            // client fails the next POST with "peer disconnected". A test cannot tell that race
            // from a real fault, so every request has a connection of its own.
            .max_idle_connections_per_host(0)
            .max_idle_connections(0)
            .build()
            .into();
        Self {
            base: format!("http://127.0.0.1:{port}"),
            agent,
        }
    }

    /// Any request: raw body bytes, extra headers; never fails on a status.
    #[track_caller]
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.unwrap_or_default()).expect("request");
        let mut response = self
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        Reply {
            status: response.status().as_u16(),
            content_type,
            body,
            headers,
        }
    }

    /// A JSON request.
    #[track_caller]
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        match body {
            Some(b) => self.raw(
                method,
                path,
                token,
                &[("content-type", "application/json")],
                Some(b.to_string().into_bytes()),
            ),
            None => self.raw(method, path, token, &[], None),
        }
    }

    /// `GET`.
    #[track_caller]
    pub fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call("GET", path, token, None)
    }

    /// `POST` with a JSON body.
    #[track_caller]
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.call("POST", path, token, Some(body))
    }

    /// `PUT` with a JSON body.
    #[track_caller]
    pub fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.call("PUT", path, token, Some(body))
    }
}

/// A throw-away PostgreSQL database on 127.0.0.1:5432, dropped with this value. `None`
/// (after a printed reason) when PostgreSQL is unreachable, unless `CCR_REQUIRE_ORACLES=1`.
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    /// Its URL.
    pub url: String,
}

const PSQL_ARGS: [&str; 6] = ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"];

impl PgDatabase {
    /// Creates a fresh database.
    pub fn create() -> Option<Self> {
        let name = format!("ccr_api_{}_{}", std::process::id(), crate::unique());
        let out = Command::new("psql")
            .args(PSQL_ARGS)
            .args([
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self {
                url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                name,
            }),
            Ok(o) => crate::missing_oracle(
                "PostgreSQL",
                &format!(
                    "psql could not create a database: {}",
                    String::from_utf8_lossy(&o.stderr)
                ),
            ),
            Err(e) => crate::missing_oracle("PostgreSQL", &format!("psql is not runnable: {e}")),
        }
    }
}

impl Drop for IssuerService {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- issuer serve log ---\n{}", self.log());
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(PSQL_ARGS)
            .args([
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

/// A running `issuer serve` with a clerk, an officer and a security officer.
#[derive(Debug)]
pub struct IssuerService {
    /// The workspace (home, temp files).
    pub ws: Workspace,
    /// The port.
    pub port: u16,
    /// The client.
    pub api: Api,
    /// The database URL, if not the embedded SQLite.
    pub database: Option<String>,
    server: Option<Server>,
    /// Extra environment of the service process.
    pub env: Vec<(String, String)>,
    /// Each staff account's second-factor secret (as `issuer staff add` showed it) and the
    /// last time step used, so that no code is sent twice.
    totp: std::sync::Mutex<std::collections::HashMap<String, (Secret, i64)>>,
    /// Staff session tokens already signed in.
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// Reads the second-factor key `issuer staff add` prints.
pub fn enrolment_key(output: &str) -> Option<Secret> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix("key: "))
        .and_then(Secret::from_base32)
}

/// Staff account names created by [`IssuerService::start`].
pub const CLERK: &str = "clerk.chan";
/// The officer.
pub const OFFICER: &str = "officer.wong";
/// The security officer.
pub const SECURITY: &str = "security.lei";

impl IssuerService {
    /// Initialises a home (public URL on a free port), appends `extra_toml` to its
    /// configuration, creates the three staff accounts and starts the service.
    #[track_caller]
    pub fn start(database: Option<&str>, extra_toml: &str, env: &[(&str, &str)]) -> Self {
        Self::start_with(database, |_| extra_toml.to_owned(), env)
    }

    /// Like [`IssuerService::start`], with the configuration to append computed from the
    /// service's port (for settings that name the service's own URL, such as an OIDC
    /// `redirect_uri`).
    #[track_caller]
    pub fn start_with(
        database: Option<&str>,
        extra_toml: impl FnOnce(u16) -> String,
        env: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let extra_toml = extra_toml(port);
        let extra_toml = extra_toml.as_str();
        let ws = Workspace::with_init_args(&["--public-url", &format!("http://127.0.0.1:{port}")]);
        if !extra_toml.is_empty() {
            append_toml(&ws.home, extra_toml);
        }
        Self::start_on(ws, port, database, env)
    }

    /// Starts the service on the home already made in `ws`, whose public URL is
    /// `http://127.0.0.1:<port>`: creates the three staff accounts and starts it. `env` is
    /// given to every issuer command this harness runs (e.g. `SOFTHSM2_CONF`).
    #[track_caller]
    pub fn start_on(
        ws: Workspace,
        port: u16,
        database: Option<&str>,
        env: &[(&str, &str)],
    ) -> Self {
        let mut service = Self {
            ws,
            port,
            api: Api::new(port),
            database: database.map(str::to_owned),
            server: None,
            totp: std::sync::Mutex::default(),
            tokens: std::sync::Mutex::default(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        for (name, role) in [
            (CLERK, "clerk"),
            (OFFICER, "officer"),
            (SECURITY, "security_officer"),
        ] {
            service.add_staff(name, role).assert_success();
        }
        service.restart();
        service
    }

    /// `issuer staff add` with [`STAFF_PASSWORD`] on standard input.
    pub fn add_staff(&self, name: &str, role: &str) -> crate::Out {
        self.add_person(&["staff", "add", name, "--role", role], name)
    }

    /// `issuer department-user add` with [`STAFF_PASSWORD`] on standard input.
    pub fn add_department_user(&self, department: &str, name: &str) -> crate::Out {
        self.add_person(&["department-user", "add", department, name], name)
    }

    /// Runs an account-creating command with [`STAFF_PASSWORD`] on standard input and keeps
    /// the second-factor key it shows.
    fn add_person(&self, args: &[&str], name: &str) -> crate::Out {
        use std::io::Write as _;
        let mut cmd = bin_command("issuer");
        cmd.args(args).arg("--home").arg(&self.ws.home);
        if let Some(url) = &self.database {
            cmd.args(["--database", url]);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn issuer");
        if let Some(mut stdin) = child.stdin.take() {
            writeln!(stdin, "{STAFF_PASSWORD}").expect("password");
        }
        let output = child.wait_with_output().expect("issuer");
        let out = crate::Out::from_output(output);
        if let Some(secret) = enrolment_key(&out.stdout) {
            self.totp
                .lock()
                .expect("totp table")
                .insert(name.to_owned(), (secret, i64::MIN));
        }
        out
    }

    /// A second-factor code of `name` for a time step not used before by this harness (the
    /// service accepts each step once): the current step, or the next one when the current
    /// was used (within the service's one-step drift), else it waits for a new step.
    #[track_caller]
    pub fn staff_code(&self, name: &str) -> String {
        loop {
            let now = time::OffsetDateTime::now_utc();
            let current = step_of(now);
            {
                let mut table = self.totp.lock().expect("totp table");
                let (secret, last) = table
                    .get_mut(name)
                    .unwrap_or_else(|| panic!("{name} was not added by this harness"));
                let step = (*last + 1).max(current);
                if step <= current + 1 {
                    *last = step;
                    return format!("{:06}", secret.code_at(step));
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The sign-in body of `name`: the shared password and a fresh code.
    pub fn staff_credentials(&self, name: &str) -> Value {
        json!({ "username": name, "password": STAFF_PASSWORD, "code": self.staff_code(name) })
    }

    fn command(&self) -> Command {
        let mut cmd = bin_command("issuer");
        cmd.arg("serve")
            .arg("--home")
            .arg(&self.ws.home)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port));
        if let Some(url) = &self.database {
            cmd.args(["--database", url]);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// (Re)starts the service and waits until it is healthy.
    #[track_caller]
    pub fn restart(&mut self) {
        self.server = None;
        let log = self.log_path();
        self.server = Some(spawn_logged_until_healthy(
            self.command(),
            self.port,
            "issuer serve",
            Some(&log),
        ));
    }

    /// Kills the service with SIGKILL (no shutdown of any kind).
    pub fn kill_9(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.0.kill();
            let _ = server.0.wait();
        }
    }

    /// A staff session token: the one this harness already holds for `name`, else a new
    /// sign-in (each sign-in spends a second-factor step, so they are not repeated).
    #[track_caller]
    pub fn staff_token(&self, name: &str) -> String {
        if let Some(token) = self.tokens.lock().expect("token table").get(name) {
            return token.clone();
        }
        let token = self.fresh_staff_token(name);
        self.tokens
            .lock()
            .expect("token table")
            .insert(name.to_owned(), token.clone());
        token
    }

    /// A new staff session (for a test that ends it).
    #[track_caller]
    pub fn fresh_staff_token(&self, name: &str) -> String {
        let reply = self.api.post(
            "/api/v1/auth/staff/sign-in",
            None,
            &self.staff_credentials(name),
        );
        reply.expect(200);
        reply.json()["token"].as_str().expect("token").to_owned()
    }

    /// An applicant session token from the development identity provider.
    #[track_caller]
    pub fn applicant_token(&self, subject: &str) -> String {
        let reply = self.api.post(
            "/api/v1/auth/dev/sign-in",
            None,
            &json!({ "subject": subject }),
        );
        reply.expect(200);
        reply.json()["token"].as_str().expect("token").to_owned()
    }

    /// The newest one-time password sent to `mobile` (development SMS outbox).
    #[track_caller]
    pub fn latest_otp(&self, security_token: &str, mobile: &str) -> String {
        let path = format!(
            "/api/v1/dev/outbox?recipient={}",
            mobile.replace('+', "%2B")
        );
        let reply = self.api.get(&path, Some(security_token));
        reply.expect(200);
        let messages = reply.json();
        let body = messages
            .as_array()
            .and_then(|m| {
                m.iter().find(|m| {
                    m["body"]
                        .as_str()
                        .is_some_and(|b| six_digit_run(b).is_some())
                })
            })
            .and_then(|m| m["body"].as_str())
            .unwrap_or_else(|| panic!("no one-time password sent to {mobile}: {messages}"))
            .to_owned();
        six_digit_run(&body).unwrap_or_else(|| panic!("no code in {body:?}"))
    }

    /// Where the service's standard error goes.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.ws.file("issuer-serve.log")
    }

    /// What the service wrote to standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The issuer's home.
    pub fn home(&self) -> &Path {
        &self.ws.home
    }
}

/// The first run of exactly six digits in `text`.
fn six_digit_run(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                return Some(chars[start..i].iter().collect());
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Appends `extra` to a TOML document, merging into an existing `[section]` of the same name
/// by inserting the lines right after its header; a `key = value` line replaces the section's
/// own line for that key (TOML forbids a key twice).
/// Appends `extra` to the configuration of the home at `home` (settings it names replace the
/// home's own).
pub fn append_toml(home: &std::path::Path, extra: &str) {
    let path = home.join("issuer.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(&path, merge_toml(&text, extra)).expect("write config");
}

fn merge_toml(text: &str, extra: &str) -> String {
    let mut result = text.to_owned();
    let mut current: Option<String> = None;
    let mut pending: Vec<(Option<String>, String)> = Vec::new();
    for line in extra.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") {
            current = Some(trimmed.to_owned());
            continue;
        }
        pending.push((current.clone(), line.to_owned()));
    }
    for (section, line) in pending.into_iter().rev() {
        match section {
            Some(header) if result.contains(&format!("\n{header}\n")) => {
                let at =
                    result.find(&format!("\n{header}\n")).unwrap_or_default() + header.len() + 2;
                remove_key(&mut result, at, &line);
                result.insert_str(at, &format!("{line}\n"));
            }
            Some(header) => {
                result.push_str(&format!("\n{header}\n{line}\n"));
            }
            None => result = format!("{line}\n{result}"),
        }
    }
    result
}

/// Removes the line setting `line`'s key from the section whose body starts at `start` (up to
/// the next line starting with `[`), if there is one.
fn remove_key(text: &mut String, start: usize, line: &str) {
    let key_of = |l: &str| {
        let (key, _) = l.split_once('=')?;
        let key = key.trim();
        (!key.is_empty() && !key.starts_with('#')).then(|| key.to_owned())
    };
    let Some(key) = key_of(line) else {
        return;
    };
    let mut at = start;
    while at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
        let current = &text[at..end];
        if current.trim_start().starts_with('[') {
            return;
        }
        if key_of(current).is_some_and(|k| k == key) {
            text.replace_range(at..end, "");
            return;
        }
        at = end;
    }
}

/// A 1×1 JPEG: what the development face matcher accepts as a photograph.
pub const FACE_JPEG_BASE64: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==";

/// A holder for step 2, with a BIR of the given number.
pub fn holder_with_bir(name: &str, number: &str) -> Value {
    json!({
        "name_latin": name,
        "name_chinese": "陳大文",
        "date_of_birth": "1990-01-31",
        "document": { "type": "BIR", "number": number }
    })
}

/// The steps of one application over the API, each answering the raw reply so a test can
/// assert refusals as well as successes.
impl IssuerService {
    /// Step 1: an electronic application for employment.
    #[track_caller]
    pub fn select(&self, token: &str) -> String {
        let created = self.api.post(
            "/api/v1/applications",
            Some(token),
            &json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1, "express": false }),
        );
        created.expect(201);
        created.json()["id"].as_str().expect("id").to_owned()
    }

    /// Step 2 with `holder` and `mobile` as typed.
    pub fn confirm(&self, token: &str, id: &str, holder: &Value, mobile: &str) -> Reply {
        self.api.put(
            &format!("/api/v1/applications/{id}/confirmation"),
            Some(token),
            &json!({ "holder": holder, "language": "en", "mobile": mobile, "consent_police_data": true }),
        )
    }

    /// Step 3a: sends a one-time password to `mobile` (E.164) and types it.
    #[track_caller]
    pub fn pass_otp(&self, security: &str, token: &str, id: &str, mobile: &str) -> Reply {
        self.api
            .post(
                &format!("/api/v1/applications/{id}/otp"),
                Some(token),
                &json!({}),
            )
            .expect(202);
        let code = self.latest_otp(security, mobile);
        self.api.post(
            &format!("/api/v1/applications/{id}/otp/verify"),
            Some(token),
            &json!({ "code": code }),
        )
    }

    /// Step 3b: the face check with a photograph.
    pub fn pass_face(&self, token: &str, id: &str) -> Reply {
        self.api.post(
            &format!("/api/v1/applications/{id}/face"),
            Some(token),
            &json!({ "image_base64": FACE_JPEG_BASE64 }),
        )
    }

    /// Step 4 through the sandbox gateway; the application is then SUBMITTED.
    #[track_caller]
    pub fn pay_in_sandbox(&self, token: &str, id: &str) {
        let payment = self.api.post(
            &format!("/api/v1/applications/{id}/payments"),
            Some(token),
            &json!({}),
        );
        payment.expect(201);
        let payment_id = payment.json()["payment_id"]
            .as_str()
            .expect("payment id")
            .to_owned();
        self.api
            .post(
                &format!("/api/v1/sandbox/payments/{payment_id}/complete"),
                Some(token),
                &json!({}),
            )
            .expect(200);
    }

    /// The clerk forwards a submitted application to the officer.
    #[track_caller]
    pub fn forward(&self, id: &str) {
        let clerk = self.staff_token(CLERK);
        self.api
            .post(
                &format!("/api/v1/applications/{id}/review"),
                Some(&clerk),
                &json!({ "action": "forward" }),
            )
            .expect(200);
    }

    /// The officer's decision on a checked application, as `body`.
    pub fn decide(&self, id: &str, body: &Value) -> Reply {
        let officer = self.staff_token(OFFICER);
        self.api.post(
            &format!("/api/v1/applications/{id}/decision"),
            Some(&officer),
            body,
        )
    }

    /// Waits until the application is ISSUED and downloads its (first) certificate PDF.
    #[track_caller]
    pub fn issued_pdf(&self, token: &str, id: &str) -> Vec<u8> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let app = self
                .api
                .get(&format!("/api/v1/applications/{id}"), Some(token));
            app.expect(200);
            if app.json()["state"] == "ISSUED" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not issued: {}",
                app.json()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let list = self.api.get(
            &format!("/api/v1/applications/{id}/certificates"),
            Some(token),
        );
        list.expect(200);
        let download = list.json()[0]["download"]
            .as_str()
            .expect("download")
            .to_owned();
        let pdf = self.api.get(&download, Some(token));
        pdf.expect(200);
        pdf.body.clone()
    }
}

/// A keep-alive HTTP/1.1 connection to the service from a chosen loopback source address
/// (on Linux the whole of 127.0.0.0/8 is loopback), for tests of per-address limits.
#[derive(Debug)]
pub struct LoopbackConnection {
    stream: std::io::BufReader<std::net::TcpStream>,
}

impl LoopbackConnection {
    /// Connects from `source` (any port) to `127.0.0.1:port`.
    #[track_caller]
    pub fn open(source: std::net::Ipv4Addr, port: u16) -> Self {
        use socket2::{Domain, Protocol, SockAddr, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("socket");
        let from = std::net::SocketAddr::from((source, 0));
        socket
            .bind(&SockAddr::from(from))
            .unwrap_or_else(|e| panic!("bind {from}: {e}"));
        let to = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        socket
            .connect_timeout(&SockAddr::from(to), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("connect {from} → {to}: {e}"));
        let stream: std::net::TcpStream = socket.into();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream: std::io::BufReader::new(stream),
        }
    }

    /// `POST` a JSON body on this connection and read the answer (which must carry a
    /// `Content-Length`, as the API's do).
    #[track_caller]
    pub fn post(&mut self, path: &str, body: &Value) -> Reply {
        use std::io::{BufRead as _, Read as _, Write as _};
        let body = body.to_string();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .expect("send");
        let mut line = String::new();
        self.stream.read_line(&mut line).expect("status line");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let (mut length, mut content_type) = (0usize, String::new());
        loop {
            line.clear();
            self.stream.read_line(&mut line).expect("header");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().expect("content-length"),
                    "content-type" => value.trim().clone_into(&mut content_type),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).expect("body");
        Reply {
            status,
            content_type,
            body,
            headers: Vec::new(),
        }
    }
}
