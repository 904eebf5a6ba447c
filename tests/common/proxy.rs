//! A tiny fault-injecting HTTP/1.1 proxy for the live tests (tests/live_faults.rs): listens on
//! `127.0.0.1:<free port>` and forwards every request unchanged to the moto server, except those
//! matching a [`Rule`], which get a canned answer (a throttling 503, an access-denied 403 ...) or
//! have their connection closed without an answer ([`Canned::Reset`]), a limited number of times.
//!
//! One request per connection: the request's `Connection` header becomes `Connection: close`
//! towards moto, and every answer to the client carries `Connection: close`; nothing else is
//! rewritten (the `Host` header, the signature and the body go through as sent). Bodies are read by
//! `Content-Length` or `Transfer-Encoding: chunked` (passed through with their chunk framing).
//! Every request is recorded ([`Proxy::log`]) with what was done with it; counters per rule.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// What a matching request gets instead of being forwarded.
#[derive(Debug, Clone)]
pub enum Canned {
    /// An HTTP answer (`Content-Length` and `Connection: close` are added).
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// The request is read, then the connection is closed without any answer.
    Reset,
}

impl Canned {
    /// An S3-style XML error answer.
    pub fn s3_error(status: u16, code: &str, message: &str) -> Canned {
        Canned::Respond {
            status,
            headers: vec![
                ("Content-Type".into(), "application/xml".into()),
                ("x-amz-request-id".into(), "S3MEDICPROXY0001".into()),
            ],
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>S3MEDICPROXY0001</RequestId></Error>"
            ),
        }
    }

    /// 503 SlowDown (S3 throttling).
    pub fn slow_down() -> Canned {
        Canned::s3_error(503, "SlowDown", "Please reduce your request rate.")
    }

    /// 403 AccessDenied.
    pub fn access_denied() -> Canned {
        Canned::s3_error(403, "AccessDenied", "Access Denied")
    }
}

/// Which requests to answer with `response`, and how many times (the first `times` matching
/// requests; later ones are forwarded). All the given conditions must hold.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The HTTP method, exactly (`GET`, `POST` ...).
    pub method: Option<&'static str>,
    /// A substring of the path (the request target before `?`).
    pub path_contains: Option<String>,
    /// A substring of the query string (after `?`, without it).
    pub query_contains: Option<String>,
    /// A header (name case-insensitive) whose value contains the given text, e.g.
    /// `("X-Amz-Target", "TrentService.PutKeyPolicy")`.
    pub header_contains: Option<(&'static str, &'static str)>,
    /// How many matching requests get `response`; `usize::MAX` for always.
    pub times: usize,
    pub response: Canned,
}

impl Rule {
    /// A rule matching every request, always; narrow it with the builder methods.
    pub fn new(response: Canned) -> Rule {
        Rule {
            method: None,
            path_contains: None,
            query_contains: None,
            header_contains: None,
            times: usize::MAX,
            response,
        }
    }

    pub fn method(mut self, m: &'static str) -> Rule {
        self.method = Some(m);
        self
    }

    pub fn path_contains(mut self, s: impl Into<String>) -> Rule {
        self.path_contains = Some(s.into());
        self
    }

    pub fn query_contains(mut self, s: impl Into<String>) -> Rule {
        self.query_contains = Some(s.into());
        self
    }

    pub fn header_contains(mut self, name: &'static str, value: &'static str) -> Rule {
        self.header_contains = Some((name, value));
        self
    }

    pub fn times(mut self, n: usize) -> Rule {
        self.times = n;
        self
    }

    fn matches(&self, req: &Request) -> bool {
        self.method.is_none_or(|m| req.method == m)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| req.path().contains(p))
            && self
                .query_contains
                .as_deref()
                .is_none_or(|q| req.query().contains(q))
            && self
                .header_contains
                .is_none_or(|(name, value)| req.header(name).is_some_and(|v| v.contains(value)))
    }
}

/// What the proxy did with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answered by rule number N (its canned response, or a reset).
    Rule(usize),
    /// Forwarded to moto; its HTTP status.
    Forwarded(u16),
    /// Forwarding failed (moto did not answer); the error.
    ForwardError(String),
}

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The `X-Amz-Target` header (JSON protocols: KMS), when present.
    pub amz_target: Option<String>,
    pub outcome: Outcome,
}

#[derive(Default)]
struct State {
    /// Per rule: how many requests it answered.
    matched: Vec<usize>,
    log: Vec<Seen>,
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub port: u16,
    rules: Arc<Vec<Rule>>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`, e.g. `Moto::endpoint`).
    pub fn start(upstream: &str, rules: Vec<Rule>) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("upstream must be http://HOST:PORT, got {upstream}"))
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy: bind 127.0.0.1:0");
        let port = listener.local_addr().expect("proxy: local addr").port();
        let rules = Arc::new(rules);
        let state = Arc::new(Mutex::new(State {
            matched: vec![0; rules.len()],
            log: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (rules, state, stop) = (rules.clone(), state.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (rules, state, upstream) = (rules.clone(), state.clone(), upstream.clone());
                    std::thread::spawn(move || {
                        if let Err(e) = handle(conn, &upstream, &rules, &state) {
                            eprintln!("proxy: connection error: {e}");
                        }
                    });
                }
            })
        };
        Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            rules,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// How many requests rule `i` answered (with its canned response or a reset).
    pub fn matched(&self, i: usize) -> usize {
        self.state.lock().unwrap().matched[i]
    }

    /// How many requests were forwarded to moto (answered or not).
    pub fn forwarded(&self) -> usize {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|s| !matches!(s.outcome, Outcome::Rule(_)))
            .count()
    }

    /// Every request seen so far, in arrival order.
    pub fn log(&self) -> Vec<Seen> {
        self.state.lock().unwrap().log.clone()
    }

    /// The log as text, one request a line (for assertion messages).
    pub fn log_text(&self) -> String {
        self.log()
            .iter()
            .map(|s| {
                format!(
                    "{} {}{} -> {:?}\n",
                    s.method,
                    s.target,
                    s.amz_target
                        .as_deref()
                        .map(|t| format!(" [{t}]"))
                        .unwrap_or_default(),
                    s.outcome
                )
            })
            .collect()
    }

    /// Requests matching `rule`'s conditions (whatever was done with them).
    pub fn seen_matching(&self, rule: &Rule) -> Vec<Seen> {
        self.log()
            .into_iter()
            .filter(|s| {
                let req = Request {
                    method: s.method.clone(),
                    target: s.target.clone(),
                    headers: s
                        .amz_target
                        .iter()
                        .map(|t| ("X-Amz-Target".to_string(), t.clone()))
                        .collect(),
                };
                rule.matches(&req)
            })
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        if std::thread::panicking() {
            eprintln!("proxy log:\n{}", self.log_text());
        }
    }
}

/// A parsed request head.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn io_err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

/// A message head: the start line and the headers in order.
type Head = (String, Vec<(String, String)>);

/// Reads a head (start line + headers) up to the empty line. None: the peer closed first.
fn read_head<R: BufRead>(r: &mut R) -> std::io::Result<Option<Head>> {
    let mut start = String::new();
    if r.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let start = start.trim_end_matches(['\r', '\n']).to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(io_err("connection closed inside the headers"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (n, v) = line
            .split_once(':')
            .ok_or_else(|| io_err(format!("bad header line {line:?}")))?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    Ok(Some((start, headers)))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads a message body as framed by `headers`, returned raw (chunked bodies keep their framing).
/// `to_eof`: without a length or chunking, read until the peer closes (responses only).
fn read_body<R: BufRead>(
    r: &mut R,
    headers: &[(String, String)],
    to_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let chunked = header(headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut raw = Vec::new();
        loop {
            let mut size_line = String::new();
            if r.read_line(&mut size_line)? == 0 {
                return Err(io_err("connection closed inside a chunked body"));
            }
            raw.extend_from_slice(size_line.as_bytes());
            let size_hex = size_line.trim().split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| io_err(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t)? == 0 {
                        return Ok(raw);
                    }
                    raw.extend_from_slice(t.as_bytes());
                    if t.trim_end_matches(['\r', '\n']).is_empty() {
                        return Ok(raw);
                    }
                }
            }
            let mut chunk = vec![0; size + 2]; // data + CRLF
            r.read_exact(&mut chunk)?;
            raw.extend_from_slice(&chunk);
        }
    }
    if let Some(len) = header(headers, "content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| io_err(format!("bad Content-Length {len:?}")))?;
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        return Ok(body);
    }
    let mut body = Vec::new();
    if to_eof {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// Whether a header is about the connection (dropped, replaced by `Connection: close`).
fn is_hop_header(name: &str) -> bool {
    ["connection", "keep-alive", "proxy-connection", "expect"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn handle(
    conn: TcpStream,
    upstream: &str,
    rules: &[Rule],
    state: &Mutex<State>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut client = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let Some((start, headers)) = read_head(&mut reader)? else {
        return Ok(()); // a bare connect (e.g. the wake-up on drop)
    };
    let mut parts = start.split_whitespace();
    let (method, target) = match (parts.next(), parts.next()) {
        (Some(m), Some(t)) => (m.to_string(), t.to_string()),
        _ => return Err(io_err(format!("bad request line {start:?}"))),
    };
    if header(&headers, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = read_body(&mut reader, &headers, false)?;
    let req = Request {
        method,
        target,
        headers,
    };

    // The first rule that matches and still has answers left.
    let hit = {
        let mut st = state.lock().unwrap();
        let hit = rules
            .iter()
            .enumerate()
            .find(|(i, r)| st.matched[*i] < r.times && r.matches(&req))
            .map(|(i, r)| (i, r.response.clone()));
        if let Some((i, _)) = &hit {
            st.matched[*i] += 1;
            st.log.push(Seen {
                method: req.method.clone(),
                target: req.target.clone(),
                amz_target: req.header("x-amz-target").map(str::to_string),
                outcome: Outcome::Rule(*i),
            });
        }
        hit
    };
    if let Some((_, canned)) = hit {
        match canned {
            Canned::Reset => {
                // Close without answering.
                let _ = client.shutdown(Shutdown::Both);
            }
            Canned::Respond {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (n, v) in &headers {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
                out.push_str(&format!(
                    "Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                ));
                out.push_str(&body);
                client.write_all(out.as_bytes())?;
                client.flush()?;
                let _ = client.shutdown(Shutdown::Both);
            }
        }
        return Ok(());
    }

    let result = forward(&req, &body, upstream, &mut client);
    let outcome = match &result {
        Ok(status) => Outcome::Forwarded(*status),
        Err(e) => Outcome::ForwardError(e.to_string()),
    };
    state.lock().unwrap().log.push(Seen {
        method: req.method.clone(),
        target: req.target.clone(),
        amz_target: req.header("x-amz-target").map(str::to_string),
        outcome,
    });
    let _ = client.shutdown(Shutdown::Both);
    result.map(|_| ())
}

/// Sends the request to moto and its answer back; returns moto's status.
fn forward(
    req: &Request,
    body: &[u8],
    upstream: &str,
    client: &mut TcpStream,
) -> std::io::Result<u16> {
    let up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(IO_TIMEOUT))?;
    up.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (n, v) in &req.headers {
        if !is_hop_header(n) {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut up_w = up.try_clone()?;
    up_w.write_all(head.as_bytes())?;
    up_w.write_all(body)?;
    up_w.flush()?;

    let mut r = BufReader::new(up);
    // Skip interim 1xx answers.
    let (status_line, headers, status) = loop {
        let (line, headers) =
            read_head(&mut r)?.ok_or_else(|| io_err("moto closed without answering"))?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io_err(format!("bad status line {line:?}")))?;
        if !(100..200).contains(&status) {
            break (line, headers, status);
        }
    };
    let no_body = req.method == "HEAD" || status == 204 || status == 304;
    let resp_body = if no_body {
        Vec::new()
    } else {
        read_body(&mut r, &headers, true)?
    };
    let mut out = format!("{status_line}\r\n");
    for (n, v) in &headers {
        if !is_hop_header(n) {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    client.write_all(out.as_bytes())?;
    client.write_all(&resp_body)?;
    client.flush()?;
    Ok(status)
}
