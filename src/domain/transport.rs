//! Which URLs a token may travel to: `https://` anywhere, `http://` only to this machine.
//!
//! Fulcio receives the OIDC token, the GitHub API the GitHub token, the runner's OIDC endpoint
//! its request token. Clear-text HTTP is accepted only for a loopback host (tests, local demos),
//! where nothing crosses a network. Pure: the caller parses the URL and names it in its message.
//!
//! Loopback is decided on the *parsed* host, never on a string prefix: `127.0.0.1.evil.com` is a
//! domain name, not an address. `localhost` is accepted by name (RFC 6761 reserves it);
//! `*.localhost` and `localhost.` are not, since a resolver is free to send them elsewhere.

use std::fmt;
use std::net::Ipv6Addr;

use url::{Host, Url};

/// Why a URL may not carry a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRefusal {
    /// Neither `https` nor `http`.
    UnsupportedScheme,
    /// `http://` to a host that is not loopback.
    ClearTextToNonLoopback,
}

impl fmt::Display for UrlRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnsupportedScheme => "must be an https:// URL",
            Self::ClearTextToNonLoopback => {
                "must be an https:// URL: http:// is accepted only for a loopback host \
                 (127.0.0.0/8, ::1, localhost), since a token travels on it"
            }
        })
    }
}

/// Whether `url`'s host is this machine: 127.0.0.0/8, `::1` (also as `::ffff:127.x.y.z`), or
/// the name `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(a)) => a.is_loopback(),
        Some(Host::Ipv6(a)) => is_loopback_v6(a),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn is_loopback_v6(a: Ipv6Addr) -> bool {
    a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
}

/// Accept `https://<host>` anywhere and `http://<host>` for a loopback host only. (`url` gives
/// every `http`/`https` URL a non-empty host: `https://` alone does not parse.)
pub fn check_token_url(url: &Url) -> Result<(), UrlRefusal> {
    match url.scheme() {
        "https" | "http" => {}
        _ => return Err(UrlRefusal::UnsupportedScheme),
    }
    if url.scheme() == "http" && !is_loopback(url) {
        return Err(UrlRefusal::ClearTextToNonLoopback);
    }
    Ok(())
}

/// The part of a refused URL worth showing: scheme, host and port, never credentials or a
/// query (a URL may carry a token in either).
pub fn shown(url: &Url) -> String {
    match url.host_str() {
        Some(host) => match url.port() {
            Some(p) => format!("{}://{host}:{p}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
        None => format!("{}:", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), UrlRefusal> {
        check_token_url(&Url::parse(s).expect("url"))
    }

    #[test]
    fn https_is_accepted_for_any_host() {
        assert_eq!(check("https://fulcio.sigstore.dev"), Ok(()));
        assert_eq!(check("https://10.0.0.5:8443/api/v3"), Ok(()));
        assert_eq!(check("https://[2001:db8::1]/"), Ok(()));
    }

    #[test]
    fn http_is_accepted_for_loopback_hosts() {
        for ok in [
            "http://127.0.0.1:8080/api",
            "http://127.1.2.3/",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:3000",
            "http://LOCALHOST/",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn http_to_anything_else_is_refused() {
        for bad in [
            "http://127.0.0.1.evil.com/",
            "http://localhost.evil.com/",
            "http://evil.localhost/",
            "http://localhost./",
            "http://128.0.0.1/",
            "http://10.0.0.1/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://[::2]/",
            "http://api.github.com/",
            "http://user:pw@127.0.0.1@evil.com/",
        ] {
            assert_eq!(check(bad), Err(UrlRefusal::ClearTextToNonLoopback), "{bad}");
        }
    }

    #[test]
    fn numeric_spellings_of_loopback_are_decided_on_the_address() {
        // The URL standard reads these as 127.0.0.1, and so does the connection.
        assert_eq!(check("http://2130706433/"), Ok(()));
        assert_eq!(check("http://0x7f.1/"), Ok(()));
    }

    #[test]
    fn other_schemes_are_refused() {
        assert_eq!(
            check("ftp://127.0.0.1/"),
            Err(UrlRefusal::UnsupportedScheme)
        );
        assert_eq!(
            check("file:///etc/passwd"),
            Err(UrlRefusal::UnsupportedScheme)
        );
        assert_eq!(
            check("unix:/run/x.sock"),
            Err(UrlRefusal::UnsupportedScheme)
        );
    }

    #[test]
    fn shown_leaves_out_credentials_path_and_query() {
        let u = Url::parse("http://user:hunter2@evil.com:81/p?token=abc").expect("url");
        assert_eq!(shown(&u), "http://evil.com:81");
    }
}
