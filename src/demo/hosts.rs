//! Which requests the server answers. Every request must be addressed to it by a name it knows
//! (its `Host` header), and a request that changes something (a POST: it trains) must come from
//! its own page (its `Origin` header, when the browser sends one). A page elsewhere then
//! cannot train on it through a visitor's browser, neither by posting across origins nor by
//! pointing a name of its own at this machine (DNS rebinding).
//!
//! The names it knows: the address it is bound to, `localhost`, `127.0.0.1` and `[::1]`, each
//! with or without its port, and those given with `--allow-host`.

use std::net::SocketAddr;

use axum::http::Method;

/// The names every server answers to, besides the address it is bound to.
pub const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The names a server answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    /// Each name as a `Host` header gives it, lower case, without a port unless one was given
    /// with `--allow-host` (then only that port is allowed).
    names: Vec<String>,
    /// The port the server listens on: a name without a port is allowed with this one.
    port: u16,
}

impl Hosts {
    /// The names of a server bound to `bound`, with `extra` from `--allow-host`.
    pub fn new(bound: SocketAddr, extra: &[String]) -> Hosts {
        let own = match bound {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        let mut names: Vec<String> = Vec::new();
        for name in std::iter::once(own)
            .chain(LOOPBACK.iter().map(|n| n.to_string()))
            .chain(extra.iter().map(|n| n.to_ascii_lowercase()))
        {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Hosts {
            names,
            port: bound.port(),
        }
    }

    /// Whether a `Host` header's value (`name` or `name:port`) names this server.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let own_port = format!(":{}", self.port);
        self.names
            .iter()
            .any(|n| host == *n || host.strip_suffix(&own_port) == Some(n.as_str()))
    }

    /// Whether an `Origin` header's value is this server's own page: `http://` and a name it
    /// answers to.
    pub fn allows_origin(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| !host.contains('/') && self.allows(host))
    }

    /// Why a request is refused, as one line, or `None` when it is answered. `host` is its
    /// `Host` header (or, without one, the authority of its address), `origin` its `Origin`.
    pub fn refusal(&self, method: &Method, host: Option<&str>, origin: Option<&str>) -> Option<String> {
        let Some(host) = host else {
            return Some(format!(
                "error: the request names no Host; this server answers to {} (--allow-host NAME adds one)",
                self.names()
            ));
        };
        if !self.allows(host) {
            return Some(format!(
                "error: Host {host:?}: not a name of this server; it answers to {} (--allow-host NAME adds one)",
                self.names()
            ));
        }
        let changes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        match origin {
            Some(origin) if changes && !self.allows_origin(origin) => Some(format!(
                "error: Origin {origin:?}: a request that trains must come from this server's own page, \
                 http:// and one of {} (--allow-host NAME adds one)",
                self.names()
            )),
            _ => None,
        }
    }

    /// The names, for messages: `127.0.0.1, localhost, [::1] (each with or without :8000)`.
    fn names(&self) -> String {
        format!("{} (each with or without :{})", self.names.join(", "), self.port)
    }
}

/// Checks a name given with `--allow-host`: a host name or address as a `Host` header carries
/// it (an IPv6 address in brackets), with an optional port.
pub fn check_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-._:[]".contains(c));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "--allow-host {name}: not a host name; give it as the page's address names it, \
             e.g. demo.local, 192.168.1.20 or [fe80::1], optionally with :PORT"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(extra: &[&str]) -> Hosts {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Hosts::new("127.0.0.1:8000".parse().unwrap(), &extra)
    }

    #[test]
    fn the_loopback_names_and_the_bound_address_with_or_without_the_port() {
        let h = hosts(&[]);
        // (Host header, answered)
        for (host, ok) in [
            ("127.0.0.1:8000", true),
            ("127.0.0.1", true),
            ("localhost:8000", true),
            ("LOCALHOST:8000", true),
            ("localhost", true),
            ("[::1]:8000", true),
            ("[::1]", true),
            ("localhost:9000", false),
            ("evil.example", false),
            ("evil.example:8000", false),
            ("localhost.evil.example", false),
            ("127.0.0.1.evil.example:8000", false),
            ("", false),
        ] {
            assert_eq!(h.allows(host), ok, "{host}");
        }
        let any = Hosts::new("0.0.0.0:8000".parse().unwrap(), &[]);
        assert!(any.allows("0.0.0.0:8000"));
        assert!(!any.allows("192.168.1.20:8000"));
        let v6 = Hosts::new("[::1]:8000".parse().unwrap(), &[]);
        assert!(v6.allows("[::1]:8000") && v6.allows("localhost"));
    }

    #[test]
    fn allow_host_adds_a_name_with_or_without_a_port_of_its_own() {
        let h = hosts(&["Demo.Local", "tunnel:9000"]);
        for (host, ok) in [
            ("demo.local", true),
            ("demo.local:8000", true),
            ("demo.local:8001", false),
            ("tunnel:9000", true),
            ("tunnel", false),
            ("tunnel:8000", false),
        ] {
            assert_eq!(h.allows(host), ok, "{host}");
        }
        assert_eq!(check_name("demo.local"), Ok(()));
        assert_eq!(check_name("[fe80::1]:8000"), Ok(()));
        for bad in ["", "http://demo.local", "a b", "demo/x"] {
            let e = check_name(bad).unwrap_err();
            assert!(e.starts_with(&format!("--allow-host {bad}: ")), "{e}");
        }
    }

    #[test]
    fn a_request_that_trains_must_come_from_the_page_itself() {
        let h = hosts(&[]);
        let post = Method::POST;
        // (method, Host, Origin, refused)
        for (method, host, origin, refused) in [
            (&Method::GET, Some("127.0.0.1:8000"), None, false),
            (&Method::GET, Some("127.0.0.1:8000"), Some("http://evil.example"), false),
            (&post, Some("127.0.0.1:8000"), None, false),
            (&post, Some("127.0.0.1:8000"), Some("http://127.0.0.1:8000"), false),
            (&post, Some("localhost:8000"), Some("http://localhost:8000"), false),
            (&post, Some("127.0.0.1:8000"), Some("http://evil.example"), true),
            (&post, Some("127.0.0.1:8000"), Some("evil.example"), true),
            (&post, Some("127.0.0.1:8000"), Some("null"), true),
            (&post, Some("127.0.0.1:8000"), Some("https://127.0.0.1:8000"), true),
            (&post, Some("127.0.0.1:8000"), Some("http://127.0.0.1:8000/x"), true),
            (&post, Some("evil.example"), Some("evil.example"), true),
            (&Method::GET, Some("evil.example"), None, true),
            (&Method::GET, None, None, true),
        ] {
            let why = h.refusal(method, host, origin);
            assert_eq!(why.is_some(), refused, "{method} {host:?} {origin:?}: {why:?}");
            if let Some(why) = why {
                assert!(why.starts_with("error: ") && !why.contains('\n'), "{why}");
                assert!(why.contains("--allow-host"), "{why}");
            }
        }
    }
}
