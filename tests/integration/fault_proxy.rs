//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1, put in front of a fake (or real) service.
//!
//! Every request that reaches a proxy is numbered in one [`Plan`] shared by all the proxies of
//! a run, so a run's calls to GitHub, Sigstore, the OIDC endpoint and Supabase form one
//! sequence. Recording a clean run gives that sequence; a faulted run names one index and a
//! [`Fault`] for it, and every other request is forwarded untouched. One request per
//! connection: the proxy answers with `Connection: close` so no client reuses a socket the
//! proxy is about to drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the faulted request gets instead of the upstream's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An error status with a JSON body, not forwarded.
    Status(u16),
    /// 429 with `Retry-After: 0`, not forwarded.
    RateLimited,
    /// No answer: the request is read and the connection held open (until the client gives up
    /// or 60 s pass), not forwarded. Use a short `SLSA_PROVENANCE_HTTP_TIMEOUT_MS`.
    Hang,
    /// The request is read, then the connection is reset (RST, `SO_LINGER` 0), not forwarded.
    Reset,
    /// Forwarded (the side effect happens), then the answer's body is cut in half: a server
    /// that did the work but whose answer was truncated on the way.
    Truncated,
    /// 200 with an HTML page (`text/html`), not forwarded: a gateway or login page.
    Html,
}

impl Fault {
    pub fn label(self) -> String {
        match self {
            Self::Status(s) => format!("http-{s}"),
            Self::RateLimited => "429-retry-after-0".into(),
            Self::Hang => "hang".into(),
            Self::Reset => "reset".into(),
            Self::Truncated => "truncated-json".into(),
            Self::Html => "html-200".into(),
        }
    }

    /// A transient failure a retrying client may heal (the request may or may not have landed).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Status(500..=599) | Self::RateLimited | Self::Hang | Self::Reset
        )
    }
}

/// One request as it reached a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: &'static str,
    pub method: String,
    /// The path, without the query.
    pub path: String,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.service, self.method, self.path)
    }
}

/// Which request gets the fault.
#[derive(Debug, Clone)]
enum Target {
    /// The request with this index (0-based, in arrival order across the plan's proxies).
    Index(usize),
    /// The first request to `service` with this method whose path ends with `path_suffix`.
    Matching {
        service: &'static str,
        method: &'static str,
        path_suffix: &'static str,
    },
}

#[derive(Debug, Default)]
struct PlanState {
    calls: Vec<Call>,
    fault: Option<(Target, Fault)>,
    faulted: Option<Call>,
}

/// The numbering of a run's requests across its proxies, and the one fault to inject.
#[derive(Debug, Clone, Default)]
pub struct Plan(Arc<Mutex<PlanState>>);

impl Plan {
    /// Record only.
    pub fn record() -> Self {
        Self::default()
    }

    /// Fault the request with index `index` (0-based, in arrival order) with `fault`.
    pub fn fault(index: usize, fault: Fault) -> Self {
        let p = Self::default();
        p.0.lock().expect("plan").fault = Some((Target::Index(index), fault));
        p
    }

    /// Fault the first request to `service` with `method` whose path ends with `path_suffix`.
    pub fn fault_matching(
        service: &'static str,
        method: &'static str,
        path_suffix: &'static str,
        fault: Fault,
    ) -> Self {
        let p = Self::default();
        p.0.lock().expect("plan").fault = Some((
            Target::Matching {
                service,
                method,
                path_suffix,
            },
            fault,
        ));
        p
    }

    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().expect("plan").calls.clone()
    }

    /// The request that got the fault, if the run got that far.
    pub fn faulted(&self) -> Option<Call> {
        self.0.lock().expect("plan").faulted.clone()
    }

    fn arrive(&self, call: Call) -> Option<Fault> {
        let mut s = self.0.lock().expect("plan");
        let index = s.calls.len();
        s.calls.push(call.clone());
        let hit = match &s.fault {
            Some((Target::Index(i), f)) if *i == index => Some(*f),
            Some((
                Target::Matching {
                    service,
                    method,
                    path_suffix,
                },
                f,
            )) if s.faulted.is_none()
                && *service == call.service
                && *method == call.method
                && call.path.ends_with(path_suffix) =>
            {
                Some(*f)
            }
            _ => None,
        };
        if hit.is_some() {
            s.faulted = Some(call);
        }
        hit
    }
}

/// A proxy listening on 127.0.0.1; the listener thread lives as long as the test process (it
/// only ever blocks in `accept`).
pub struct FaultProxy {
    pub addr: SocketAddr,
}

impl FaultProxy {
    /// Forward everything to `upstream` (`http://127.0.0.1:port`, any path ignored).
    pub fn start(service: &'static str, upstream: &str, plan: &Plan) -> Self {
        let up = upstream_addr(upstream);
        Self::routed(service, plan, move |_| up)
    }

    /// Forward each request to the upstream `route` picks by path.
    pub fn routed(
        service: &'static str,
        plan: &Plan,
        route: impl Fn(&str) -> SocketAddr + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let plan = plan.clone();
        let route = Arc::new(route);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let plan = plan.clone();
                let route = Arc::clone(&route);
                std::thread::spawn(move || {
                    let _ = serve(stream, service, &plan, &*route);
                });
            }
        });
        Self { addr }
    }

    /// The proxy's origin, `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// `http://127.0.0.1:1234/anything` -> 127.0.0.1:1234.
pub fn upstream_addr(url: &str) -> SocketAddr {
    let u = url::Url::parse(url).expect("upstream url");
    let host = u.host_str().expect("host");
    assert!(
        host == "127.0.0.1" || host == "localhost",
        "upstream must be loopback: {url}"
    );
    SocketAddr::from(([127, 0, 0, 1], u.port().expect("port")))
}

/// An HTTP message: start line, headers, body (de-chunked).
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Re-framed with `Content-Length` and `Connection: close`.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (k, v) in &self.headers {
            if matches!(
                k.to_ascii_lowercase().as_str(),
                "connection" | "keep-alive" | "content-length" | "transfer-encoding"
            ) {
                continue;
            }
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Read one message. `response_to_head`: a response to HEAD, or a status without a body.
fn read_message(r: &mut impl BufRead, is_response: bool) -> std::io::Result<Option<Message>> {
    let mut start = String::new();
    if r.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let start = start.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut m = Message {
        start,
        headers,
        body: Vec::new(),
    };
    let status: u16 = if is_response {
        m.start
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    let no_body = is_response && (status == 204 || status == 304 || (100..200).contains(&status));
    if no_body {
        return Ok(Some(m));
    }
    if m.header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                // Trailers until the empty line.
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l)? == 0 || l.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; n];
            r.read_exact(&mut chunk)?;
            m.body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf)?;
        }
    } else if let Some(n) = m.header("content-length").and_then(|v| v.parse().ok()) {
        let mut body = vec![0; n];
        r.read_exact(&mut body)?;
        m.body = body;
    } else if is_response {
        r.read_to_end(&mut m.body)?;
    }
    Ok(Some(m))
}

fn canned(status: u16, content_type: &str, extra: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Message {
        start: format!("HTTP/1.1 {status} Injected"),
        headers,
        body: body.as_bytes().to_vec(),
    }
    .to_bytes()
}

fn forward(request: &Message, upstream: SocketAddr) -> std::io::Result<Message> {
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(120)))?;
    up.write_all(&request.to_bytes())?;
    let mut reader = BufReader::new(up);
    read_message(&mut reader, true)?.ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "upstream closed early")
    })
}

fn serve(
    stream: TcpStream,
    service: &'static str,
    plan: &Plan,
    route: &(dyn Fn(&str) -> SocketAddr + Send + Sync),
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(request) = read_message(&mut reader, false)? else {
        return Ok(());
    };
    let mut parts = request.start.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let fault = plan.arrive(Call {
        service,
        method,
        path: path.clone(),
    });
    let mut out = stream;
    match fault {
        None => {
            let answer = match forward(&request, route(&path)) {
                Ok(a) => a.to_bytes(),
                Err(e) => canned(
                    599,
                    "text/plain",
                    &[],
                    &format!("fault proxy: upstream failed: {e}"),
                ),
            };
            out.write_all(&answer)?;
        }
        Some(Fault::Status(status)) => out.write_all(&canned(
            status,
            "application/json",
            &[],
            r#"{"message": "injected server error"}"#,
        ))?,
        Some(Fault::RateLimited) => out.write_all(&canned(
            429,
            "application/json",
            &[("Retry-After", "0")],
            r#"{"message": "API rate limit exceeded (injected)"}"#,
        ))?,
        Some(Fault::Hang) => {
            out.set_read_timeout(Some(Duration::from_secs(60)))?;
            let mut sink = [0u8; 1024];
            // Until the client gives up (EOF or error) or the bound passes.
            while matches!(out.read(&mut sink), Ok(n) if n > 0) {}
        }
        Some(Fault::Reset) => {
            socket2::SockRef::from(&out).set_linger(Some(Duration::ZERO))?;
            drop(reader);
            drop(out);
        }
        Some(Fault::Truncated) => {
            let mut answer = forward(&request, route(&path))?;
            let keep = answer.body.len() / 2;
            answer.body.truncate(keep);
            out.write_all(&answer.to_bytes())?;
        }
        Some(Fault::Html) => out.write_all(&canned(
            200,
            "text/html; charset=utf-8",
            &[],
            "<!DOCTYPE html><html><head><title>Sign in</title></head>\
             <body><h1>Please sign in</h1></body></html>",
        ))?,
    }
    Ok(())
}
