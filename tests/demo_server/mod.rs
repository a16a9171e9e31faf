//! What the demo's tests share: a `pressure demo` server on a free port of its own, and a
//! plain HTTP/1.0 client for it (the server then streams a response without chunking, so an
//! event stream can be read as it comes).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A `pressure demo` process; stopped when dropped.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl Server {
    /// Starts `pressure demo --port 0 --runs RUNS` in `cwd` with `extra` flags, and reads the
    /// address it prints. Its constitution cache is `cwd/constitution-cache`.
    pub fn start(cwd: &Path, runs: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pressure"))
            .env("PRESSURE_CACHE", cwd.join("constitution-cache"))
            .args(["demo", "--port", "0", "--runs"])
            .arg(runs)
            .args(extra)
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the pressure binary runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in `{line}`"))
            .to_string();
        let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
        Server { child, addr, url }
    }

    /// The server's resident memory, in MiB (Linux).
    pub fn memory_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
    }

    /// The CPU time the server has used so far, its exited threads included, in seconds (Linux).
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.child.id())
    }

    /// The server's `/api/status`.
    pub fn status(&self) -> Value {
        let (status, body) = self.get("/api/status");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Waits until the server is sending no answer.
    pub fn wait_answered(&self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let status = self.status();
            if status["answering"] == 0 {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the server stayed busy: {status}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits until the server is not training (its constitutions trained ahead, if any).
    pub fn wait_idle(&self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let (_, body) = self.get("/api/status");
            let status: Value = serde_json::from_str(&body).unwrap();
            if status["busy"] == false && status["waiting"] == 0 {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the server stayed busy: {status}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Opens a request; its status and headers are read, the body is left to read.
    pub fn open(&self, method: &str, path: &str) -> Response {
        self.open_with(method, path, &[])
    }

    /// Opens a request with these headers; `Host` is the server's address unless given. A read
    /// that waits longer than [`READ_LIMIT`] fails.
    pub fn open_with(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(READ_LIMIT)).unwrap();
        stream.set_write_timeout(Some(READ_LIMIT)).unwrap();
        let mut head = format!("{method} {path} HTTP/1.0\r\n");
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            if h.trim().is_empty() {
                break;
            }
            headers.push(h.trim().to_lowercase());
        }
        Response {
            status: code,
            headers,
            reader,
        }
    }

    /// A whole response: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.open("GET", path).whole()
    }

    /// POST `/api/train?QUERY` read to its end: the status and every event (or the refusal's
    /// body as one event named `refused`).
    pub fn train(&self, query: &str) -> (u16, Vec<(String, Value)>) {
        let mut r = self.open("POST", &format!("/api/train?{query}"));
        if r.status != 200 {
            let (status, body) = r.whole();
            return (status, vec![("refused".into(), serde_json::from_str(&body).unwrap())]);
        }
        let mut events = Vec::new();
        while let Some(e) = r.next_event() {
            events.push(e);
        }
        (200, events)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The longest a test waits for one read of a response: a server that stops answering fails
/// the test rather than holding it.
pub const READ_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// An open response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<String>,
    reader: BufReader<TcpStream>,
}

impl Response {
    pub fn whole(mut self) -> (u16, String) {
        let mut body = String::new();
        self.reader.read_to_string(&mut body).unwrap();
        (self.status, body)
    }

    /// The next server-sent event (name, JSON data), skipping keep-alive comments; `None` at
    /// the end of the stream.
    pub fn next_event(&mut self) -> Option<(String, Value)> {
        let (mut name, mut data) = (String::new(), String::new());
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !data.is_empty() {
                    return Some((name, serde_json::from_str(&data).unwrap()));
                }
                continue;
            }
            if let Some(n) = line.strip_prefix("event:") {
                name = n.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
    }
}

/// The events of one name.
pub fn named<'a>(events: &'a [(String, Value)], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect()
}

/// Splits a shell line as a POSIX shell does for words in single quotes or bare.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match (c, quoted) {
            ('\'', _) => {
                quoted = !quoted;
                started = true;
            }
            (' ', false) => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (c, _) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// The `pressure` arguments of a demo command line, with its `--out` replaced by `out`.
pub fn args_with_out(command: &str, out: &Path) -> Vec<String> {
    let mut words = shell_words(command);
    assert_eq!(words.remove(0), "pressure");
    let at = words
        .iter()
        .position(|w| w == "--out")
        .expect("the command names its folder");
    words[at + 1] = out.display().to_string();
    words
}

/// The user and system CPU time of process `pid` so far, in seconds (Linux: `/proc/PID/stat`,
/// at 100 ticks a second).
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are counted from its closing bracket.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Runs `pressure ARGS` in `cwd` to its end, which must come within `limit` (it is killed
/// otherwise, and the test fails).
pub fn pressure_within(args: &[&str], cwd: &Path, limit: std::time::Duration) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pressure"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pressure binary runs");
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pressure {args:?} still ran after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
