//! The demo's API without a browser: a run requested over HTTP streams the numbers `pressure
//! run` writes for the same command line, byte for byte; bad parameters get a 4xx with the line
//! the command line prints; one training at a time, three waiting, the next refused, and a
//! stored configuration answered at once while a place is free; a request from another name or
//! page refused; memory given back after bursts of requests.

mod common;
mod demo_server;

use std::path::Path;

use common::{pressure, stderr, stdout};
use demo_server::{Server, args_with_out, named, pressure_within};
use serde_json::Value;

/// Every streamed row of a run, as one text.
fn streamed(events: &[(String, Value)], id: &str) -> String {
    named(events, "rows")
        .iter()
        .filter(|r| r["id"] == id)
        .map(|r| r["csv"].as_str().unwrap())
        .collect()
}

#[test]
fn a_run_over_http_streams_the_numbers_pressure_run_writes_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold"]);
    let query = "scene=pressure&arm=objection%20penalized&seeds=2&pressure.steps=100&reward.refusal_penalty=1.5";
    let (status, events) = server.train(query);
    assert_eq!(status, 200, "{events:?}");
    let start = named(&events, "start")[0];
    let command = start["command"].as_str().unwrap();
    assert!(
        command.starts_with(
            "pressure run pressure --arm 'objection penalized' --seeds 2 --set reward.refusal_penalty=1.5 --set pressure.steps=100 --out "
        ),
        "{command}"
    );

    // The same command line, into a folder of its own.
    let out = dir.path().join("cli");
    let args = args_with_out(command, &out);
    let o = pressure(&args.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let runs = start["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for run in runs {
        let id = run["id"].as_str().unwrap();
        let written = std::fs::read_to_string(out.join("runs").join(id).join("metrics.csv")).unwrap();
        assert_eq!(
            format!("step,scope,metric,value\n{}", streamed(&events, id)),
            written,
            "run {id}"
        );
    }

    // A point for each evaluated step, in order, each once all seeds have it.
    let steps: Vec<u64> = named(&events, "point")
        .iter()
        .map(|p| p["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [0, 50, 100]);
    let last = named(&events, "point")[2];
    assert_eq!(last["values"]["trained:refusal"][3], 2, "two seeds in the mean");

    // The final values are `pressure summary`'s, digit for digit.
    let done = named(&events, "done")[0];
    let summary = pressure(
        &[
            "summary",
            out.to_str().unwrap(),
            "--metrics",
            "hidden_objection",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let summary: Value = serde_json::from_str(&stdout(&summary)).unwrap();
    let final_hidden = &done["finals"]["trained:hidden_objection"];
    assert_eq!(final_hidden["value"], summary[0]["value"]);
    assert_eq!(final_hidden["low"], summary[0]["low"]);
    let table = stdout(&pressure(&["summary", out.to_str().unwrap()], dir.path()));
    assert!(table.contains(final_hidden["text"].as_str().unwrap()), "{table}");

    // Its data downloads as the metrics.csv `pressure run` writes.
    let (status, csv) = server.get(&format!("/api/csv?{query}"));
    assert_eq!(status, 200);
    assert_eq!(csv, std::fs::read_to_string(out.join("metrics.csv")).unwrap());

    // Asked again, it is read from the cache: the same rows, nothing trained.
    let (_, again) = server.train(query);
    assert!(
        named(&again, "start")[0]["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["stored"] == true)
    );
    assert_eq!(named(&again, "done")[0]["trained"], 0);
    for run in runs {
        let id = run["id"].as_str().unwrap();
        assert_eq!(streamed(&again, id), streamed(&events, id));
    }
}

#[test]
fn bad_parameters_get_a_4xx_with_the_line_the_command_line_prints() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold"]);
    let out = "cli-out";
    // (query, the same request as `pressure run` arguments, the control blamed)
    let cases: [(&str, Vec<&str>, &str); 5] = [
        (
            "scene=pressure&arm=objection%20penalized&world.contradiction_rate=1.5",
            vec![
                "--arm",
                "objection penalized",
                "--seeds",
                "5",
                "--set",
                "world.contradiction_rate=1.5",
            ],
            "world.contradiction_rate",
        ),
        (
            "scene=pressure&reward.refusal_penalty=abc",
            vec![
                "--arm",
                "no pressure",
                "--seeds",
                "5",
                "--set",
                "reward.refusal_penalty=abc",
            ],
            "reward.refusal_penalty",
        ),
        (
            "scene=pressure&arm=nobody",
            vec!["--arm", "nobody", "--seeds", "5"],
            "arm",
        ),
        (
            "scene=phase_diagram&world.contradiction_rate=2",
            vec![
                "--seeds",
                "5",
                "--sweep",
                "world.contradiction_rate=2",
                "--sweep",
                "reward.refusal_penalty=0.0",
            ],
            "world.contradiction_rate",
        ),
        (
            "scene=inoculation&arm=no%20frame&world.train_domains=%5B%5D",
            vec!["--arm", "no frame", "--seeds", "5", "--set", "world.train_domains=[]"],
            "world.train_domains",
        ),
    ];
    for (query, args, key) in cases {
        let experiment = query.split('&').next().unwrap().trim_start_matches("scene=");
        let mut cli = vec!["run", experiment];
        cli.extend(args);
        cli.extend(["--out", out]);
        let o = pressure(&cli, dir.path());
        assert_eq!(o.status.code(), Some(2), "{cli:?}");
        let line = stderr(&o).trim().to_string();
        for (status, body) in [server.get(&format!("/api/check?{query}")), {
            let (s, e) = server.train(query);
            (s, e[0].1.to_string())
        }] {
            assert_eq!(status, 400, "{query}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["message"], line, "{query}");
            assert_eq!(body["key"], key, "{query}");
        }
    }
    assert!(!dir.path().join(out).exists(), "nothing was trained");

    // The demo's own limits, said the same way.
    let demo_only = [
        ("scene=pressure&seeds=9", "seeds", "the demo trains 1 to 8 seeds"),
        ("scene=pressure&seeds=0", "seeds", "a count of seeds, 1 or more"),
        (
            "scene=pressure&pressure.steps=4050",
            "pressure.steps",
            "at most 4000 steps a run",
        ),
        // 3,100 pressure steps and the arm's 1,000 followup steps.
        (
            "scene=extra_rlhf&arm=judge-only%20followup&pressure.steps=3100",
            "pressure.steps",
            "this arm has 4100",
        ),
    ];
    for (query, key, needle) in demo_only {
        let (status, body) = server.get(&format!("/api/check?{query}"));
        assert_eq!(status, 400, "{query}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["key"], key, "{query}");
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with("error: ") && message.contains(needle), "{message}");
    }
    for query in [
        "scene=nowhere",
        "scene=pressure&policy.hidden=%5B8%5D",
        "scene=pressure&scene=pressure",
    ] {
        let (status, body) = server.get(&format!("/api/check?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["key"], Value::Null, "{query}");
        assert!(!body["message"].as_str().unwrap().contains('\n'));
    }
    let (status, _) = server.get("/api/csv?scene=pressure&seeds=1");
    assert_eq!(status, 404, "nothing is trained yet");
}

#[test]
fn one_training_at_a_time_three_waiting_and_stored_runs_at_once_while_a_place_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // A configuration trained by the command line beforehand is in the demo's cache.
    let stored = "scene=pressure&arm=no%20pressure&seeds=1&pressure.steps=50";
    let o = pressure(
        &[
            "run",
            "pressure",
            "--arm",
            "no pressure",
            "--seeds",
            "1",
            "--set",
            "pressure.steps=50",
            "--out",
            cache.join("pressure").to_str().unwrap(),
            "--no-plots",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let server = Server::start(dir.path(), &cache, &["--cold"]);

    // Stored runs do not wait for a training: the command line's run is served from the cache
    // at once.
    for _ in 0..2 {
        let clock = std::time::Instant::now();
        let (status, events) = server.train(stored);
        assert_eq!(status, 200, "{events:?}");
        assert_eq!(named(&events, "queued").len(), 0);
        assert_eq!(named(&events, "done")[0]["stored"], 1);
        assert!(clock.elapsed().as_secs_f64() < 2.0, "{:?}", clock.elapsed());
        let id = named(&events, "start")[0]["runs"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let written =
            std::fs::read_to_string(Path::new(&cache).join("pressure/runs").join(&id).join("metrics.csv")).unwrap();
        assert_eq!(format!("step,scope,metric,value\n{}", streamed(&events, &id)), written);
    }
    // Its answer is kept in memory for the next request that asks for it.
    assert_eq!(server.status()["answers_kept"], 1);

    let mut first = server.open("POST", "/api/train?scene=pressure&seeds=8&pressure.steps=4000");
    assert_eq!(first.status, 200);
    let (name, queued) = first.next_event().unwrap();
    assert_eq!((name.as_str(), &queued["ahead"]), ("queued", &Value::from(0)));
    assert_eq!(first.next_event().unwrap().0, "start");

    let mut waiting = Vec::new();
    for (i, penalty) in ["0.5", "1.0", "1.5"].iter().enumerate() {
        let mut r = server.open(
            "POST",
            &format!("/api/train?scene=pressure&seeds=1&pressure.steps=50&reward.refusal_penalty={penalty}"),
        );
        assert_eq!(r.status, 200);
        let (name, data) = r.next_event().unwrap();
        assert_eq!(name, "queued");
        assert_eq!(data["ahead"], i + 1, "{data}");
        waiting.push(r);
    }
    // One training and three waiting fill the four places (--jobs 1, --queue 3): the next
    // request is refused, a training or a stored answer alike, and so is a download.
    for query in [
        "scene=pressure&seeds=1&pressure.steps=50&reward.refusal_penalty=2.5",
        stored,
    ] {
        let (status, body) = server.open("POST", &format!("/api/train?{query}")).whole();
        assert_eq!(status, 503, "{query}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body["message"],
            "error: the demo is answering 4 requests, as many as it answers at once (--jobs and --queue); try again when one finishes",
            "{query}"
        );
    }
    let (status, _) = server.get(&format!("/api/csv?{stored}"));
    assert_eq!(status, 503);
    let status = server.status();
    assert_eq!(
        (&status["answering"], &status["waiting"]),
        (&Value::from(4), &Value::from(3))
    );
}

#[test]
fn the_limits_are_the_servers_flags() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &dir.path().join("cache"),
        &["--cold", "--max-seeds", "2", "--max-steps", "200", "--queue", "0"],
    );
    let (_, body) = server.get("/api/catalogue");
    let catalogue: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(catalogue["limits"]["seeds"], 2);
    assert_eq!(catalogue["limits"]["steps"], 200);
    for (query, key, needle) in [
        ("scene=pressure&seeds=3", "seeds", "1 to 2 seeds (--max-seeds)"),
        (
            "scene=pressure&seeds=1&pressure.steps=250",
            "pressure.steps",
            "at most 200 steps a run (--max-steps",
        ),
    ] {
        let (status, body) = server.get(&format!("/api/check?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["key"], key, "{query}");
        assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
    }
    // With no queue, a request is still trained when nothing else is.
    let (status, events) = server.train("scene=pressure&arm=no%20pressure&seeds=1&pressure.steps=50");
    assert_eq!(status, 200, "{events:?}");
    assert_eq!(named(&events, "done").len(), 1, "{events:?}");
    drop(server);

    for flag in ["--max-seeds", "--max-steps", "--jobs"] {
        let o = pressure(&["demo", "--port", "0", flag, "0"], dir.path());
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert_eq!(stderr(&o).trim(), format!("error: {flag} 0: must be 1 or more"));
    }
}

#[test]
fn a_request_from_another_name_or_another_page_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = Server::start(dir.path(), &cache, &["--cold"]);
    let port = server.addr.rsplit_once(':').unwrap().1;
    let train = "/api/train?scene=pressure&arm=no%20pressure&seeds=1&pressure.steps=50";
    let evil_with_port = format!("evil.example:{port}");
    let localhost = format!("localhost:{port}");
    let own_page = format!("http://{}", server.addr);
    // (method, path, Host, Origin, what the refusal names)
    let refused: [(&str, &str, &str, Option<&str>, &str); 8] = [
        ("GET", "/", "evil.example", None, r#"Host "evil.example""#),
        // As observed: a cross-origin POST with `Host: evil.example` and `Origin: evil.example`.
        (
            "POST",
            train,
            "evil.example",
            Some("evil.example"),
            r#"Host "evil.example""#,
        ),
        // A name rebound to this machine, with the server's port.
        (
            "GET",
            "/api/catalogue",
            &evil_with_port,
            None,
            &format!(r#"Host "evil.example:{port}""#),
        ),
        ("GET", "/", "demo.local", None, r#"Host "demo.local""#),
        ("GET", "/", "localhost:1", None, r#"Host "localhost:1""#),
        // The server's own name, from another page.
        (
            "POST",
            train,
            &server.addr,
            Some("http://evil.example"),
            r#"Origin "http://evil.example""#,
        ),
        ("POST", train, &localhost, Some("null"), r#"Origin "null""#),
        (
            "POST",
            train,
            &server.addr,
            Some(&format!("https://{}", server.addr)),
            &format!(r#"Origin "https://{}""#, server.addr),
        ),
    ];
    for (method, path, host, origin, names) in refused {
        let mut headers = vec![("Host", host)];
        headers.extend(origin.map(|o| ("Origin", o)));
        let r = server.open_with(method, path, &headers);
        assert!(
            r.headers
                .contains(&"content-type: text/plain; charset=utf-8".to_string())
        );
        let (status, body) = r.whole();
        assert_eq!(status, 403, "{method} {path} {headers:?}: {body}");
        let line = body.strip_suffix('\n').unwrap_or(&body);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("error: ") && line.contains(names), "{line}");
        assert!(line.contains("--allow-host NAME"), "{line}");
    }
    assert!(!cache.join("pressure").exists(), "nothing was trained");
    assert_eq!(server.status()["training"], 0);

    // The page's own requests: any of its names, and a POST with its Origin or without one.
    let host_127 = format!("127.0.0.1:{port}");
    let host_v6 = format!("[::1]:{port}");
    for host in [
        host_127.as_str(),
        "127.0.0.1",
        &localhost,
        "localhost",
        "LocalHost",
        &host_v6,
    ] {
        let (status, body) = server.open_with("GET", "/", &[("Host", host)]).whole();
        assert_eq!(status, 200, "{host}: {body}");
    }
    for headers in [
        vec![("Origin", own_page.as_str())],
        vec![("Host", localhost.as_str()), ("Origin", &format!("http://{localhost}"))],
        vec![],
    ] {
        let mut r = server.open_with("POST", train, &headers);
        assert_eq!(r.status, 200, "{headers:?}");
        let mut last = None;
        while let Some((name, _)) = r.next_event() {
            last = Some(name);
        }
        assert_eq!(last.as_deref(), Some("done"), "{headers:?}");
    }
    drop(server);

    // --allow-host adds a name, with the port or without it.
    let server = Server::start(dir.path(), &cache, &["--cold", "--allow-host", "demo.local"]);
    let port = server.addr.rsplit_once(':').unwrap().1;
    for host in ["demo.local".to_string(), format!("demo.local:{port}")] {
        let (status, body) = server.open_with("GET", "/", &[("Host", &host)]).whole();
        assert_eq!(status, 200, "{host}: {body}");
    }
    let (status, _) = server.open_with("GET", "/", &[("Host", "evil.example")]).whole();
    assert_eq!(status, 403);
    let o = pressure(
        &["demo", "--port", "0", "--allow-host", "http://demo.local"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: --allow-host http://demo.local: not a host name"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn jobs_beyond_the_cores_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(cores < 3000, "this test needs a machine with fewer than 3,000 cores");
    let runs = dir.path().join("cache");
    // As observed: `--jobs 100000` aborted starting its threads, `--jobs 3000` started 3,003.
    for jobs in ["100000", "3000"] {
        let o = pressure_within(
            &["demo", "--port", "0", "--runs", runs.to_str().unwrap(), "--jobs", jobs],
            dir.path(),
            std::time::Duration::from_secs(30),
        );
        assert_eq!(o.status.code(), Some(2), "--jobs {jobs}: {}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!("error: --jobs {jobs}: must be 1 to {cores}, the cores of this machine\n")
        );
        assert_eq!(stdout(&o), "", "--jobs {jobs}: nothing is served");
        assert!(!runs.exists(), "--jobs {jobs}: nothing is created");
    }
    // As many as the cores is allowed.
    let server = Server::start(dir.path(), &runs, &["--cold", "--jobs", &cores.to_string()]);
    let (_, body) = server.get("/api/catalogue");
    let catalogue: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(catalogue["limits"]["trainings"], cores);
}

/// Requests in one burst of the memory test, all at once: more than the server answers at once.
const BURST: usize = 24;

/// Bursts of the memory test after the first.
const LATER_BURSTS: usize = 6;

/// How much the server's resident memory may grow over the later bursts of the memory test.
const MEMORY_SLACK_MIB: f64 = 50.0;

#[test]
fn memory_comes_back_after_bursts_of_requests_for_a_stored_answer() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let o = pressure(
        &[
            "run",
            "pressure",
            "--arm",
            "objection penalized",
            "--seeds",
            "8",
            "--set",
            "pressure.steps=2000",
            "--out",
            cache.join("pressure").to_str().unwrap(),
            "--no-plots",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let server = Server::start(dir.path(), &cache, &["--cold"]);
    // Eight seeds of 2,000 steps. Before every answer took a place,
    // bursts like these took the server from 160 to 232 MiB, 8 of 4,000 steps from 291 to 453.
    let stored = "scene=pressure&arm=objection%20penalized&seeds=8&pressure.steps=2000";
    let clock = std::time::Instant::now();
    // One burst: BURST requests at once, each a stored answer, a check or a download; each is
    // answered (200) or refused for want of a place (503), and the server answers none after.
    let burst = || {
        let statuses: Vec<(u16, bool)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..BURST)
                .map(|i| {
                    let server = &server;
                    s.spawn(move || match i % 3 {
                        0 | 1 => {
                            let (status, events) = server.train(stored);
                            let done = named(&events, "done");
                            (status, status != 200 || (done.len() == 1 && done[0]["stored"] == 8))
                        }
                        _ => {
                            let (status, body) = server.get(&format!("/api/csv?{stored}"));
                            (status, status != 200 || body.lines().count() > 1)
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (status, whole) in &statuses {
            assert!([200, 503].contains(status), "{statuses:?}");
            assert!(whole, "an answer was cut short: {statuses:?}");
        }
        assert!(statuses.iter().any(|(s, _)| *s == 200), "{statuses:?}");
        server.wait_answered(std::time::Duration::from_secs(10));
        // The memory freed is returned by a thread of its own once the last answer is sent.
        std::thread::sleep(std::time::Duration::from_millis(200));
        server.memory_mib().expect("the server's memory is readable (Linux)")
    };
    let first = burst();
    let later: Vec<f64> = (0..LATER_BURSTS).map(|_| burst()).collect();
    eprintln!("the server's memory after each burst: {first:.1} MiB, then {later:.1?}");
    assert!(
        later.iter().all(|m| *m <= first + MEMORY_SLACK_MIB),
        "the server held {first:.0} MiB after the first burst of {BURST} requests, then {later:.0?}"
    );
    assert!(clock.elapsed().as_secs() < 60, "the bursts took {:?}", clock.elapsed());
}

#[test]
fn a_control_value_that_leaves_a_figure_without_data_is_trained_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold"]);
    // As observed, each refused with `figures[0] ...: the scope ... is empty` and no key:
    // inoculation without a frame has no framed scope, narrow_to_broad with all four domains
    // trained has no heldout one.
    for (query, empty) in [
        ("scene=inoculation&world.frame=none", "framed"),
        (
            "scene=narrow_to_broad&world.train_domains=%5B%22harm%22%2C%22honesty%22%2C%22care%22%2C%22safety%22%5D",
            "heldout",
        ),
    ] {
        let (status, body) = server.get(&format!("/api/check?{query}"));
        assert_eq!(status, 200, "{query}: {body}");
        let check: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(check["runs"], 5, "{query}");
        let (status, events) = server.train(&format!("{query}&seeds=1&pressure.steps=50"));
        assert_eq!(status, 200, "{query}: {events:?}");
        let done = named(&events, "done");
        assert_eq!(done.len(), 1, "{query}: {events:?}");
        assert_eq!(done[0]["problems"], Value::Array(vec![]), "{query}");
        let last = named(&events, "point").last().copied().unwrap().clone();
        assert!(last["values"]["trained:refusal"].is_array(), "{query}: {last}");
        assert!(
            last["values"].get(format!("{empty}:refusal")).is_none(),
            "{query}: {last}"
        );
    }
}

#[test]
fn a_flag_given_as_the_arm_is_refused_naming_arm_and_the_arms() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold"]);
    let arms = "no pressure, objection tolerated, objection penalized, principles untaught";
    // As observed: `arm=--out=...` was refused with `error: error: a value is required for --arm`.
    for (query, arm) in [
        ("scene=pressure&arm=--out=/tmp/elsewhere", "--out=/tmp/elsewhere"),
        ("scene=pressure&arm=--out", "--out"),
        ("scene=free&arm=-h", "-h"),
    ] {
        for (status, body) in [server.get(&format!("/api/check?{query}")), {
            let (s, e) = server.train(query);
            (s, e[0].1.to_string())
        }] {
            assert_eq!(status, 400, "{query}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["key"], "arm", "{query}");
            assert_eq!(
                body["message"],
                format!("error: --arm {arm}: not an arm of pressure; its arms: {arms}"),
                "{query}"
            );
        }
    }
    assert!(!dir.path().join("cache/pressure").exists(), "nothing was trained");
}

#[test]
fn a_second_scene_with_the_same_constitutions_trains_none_and_a_new_server_reads_them_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let scene = |steps: usize| format!("scene=pressure&arm=objection%20penalized&seeds=2&pressure.steps={steps}");
    let trained = |server: &Server| server.status()["constitutions_trained"].as_u64().unwrap();
    let loaded = |server: &Server| server.status()["constitutions_loaded"].as_u64().unwrap();

    let server = Server::start(dir.path(), &runs, &["--cold"]);
    let (status, events) = server.train(&scene(20));
    assert_eq!(status, 200, "{events:?}");
    assert_eq!(trained(&server), 2, "one constitution per seed");
    // Other pressure settings, the same constitutions: the runs are trained, no constitution is.
    let (_, events) = server.train(&scene(40));
    assert_eq!(named(&events, "done")[0]["trained"], 2, "{events:?}");
    assert_eq!(trained(&server), 2, "the second scene trained a constitution");
    drop(server);

    // A new server finds them in the constitution cache on disk.
    let server = Server::start(dir.path(), &runs, &["--cold"]);
    let (_, events) = server.train(&scene(60));
    assert_eq!(named(&events, "done")[0]["trained"], 2, "{events:?}");
    assert_eq!((trained(&server), loaded(&server)), (0, 2));
    drop(server);

    // Unless told not to use it.
    let server = Server::start(dir.path(), &runs, &["--cold", "--no-cache"]);
    server.train(&scene(80));
    assert_eq!((trained(&server), loaded(&server)), (2, 0));
}

/// Start-up says one line, the address, while it trains the first scene's constitutions; with
/// `--present` the address opens the presentation mode.
#[test]
fn the_demo_starts_with_one_line_its_address() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    for (flags, suffix) in [(&[][..], "/"), (&["--present"][..], "/?present")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pressure"))
            .args(["demo", "--port", "0"])
            .args(flags)
            .env("PRESSURE_CACHE", dir.path().join("cache"))
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The first scene's constitutions train meanwhile: give any note time to appear.
        std::thread::sleep(std::time::Duration::from_secs(2));
        child.kill().unwrap();
        child.wait().unwrap();
        let (mut more, mut errors) = (String::new(), String::new());
        child.stdout.take().unwrap().read_to_string(&mut more).unwrap();
        child.stderr.take().unwrap().read_to_string(&mut errors).unwrap();
        assert!(
            first.starts_with("pressure demo: http://127.0.0.1:") && first.trim_end().ends_with(suffix),
            "{first}"
        );
        assert_eq!(
            (more.as_str(), errors.as_str()),
            ("", ""),
            "start-up said more than its address"
        );
    }
}
