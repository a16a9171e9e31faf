//! The demo in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
//! driven through WebDriver. It opens the page at 1280×720, picks a scene, changes controls,
//! trains from the keyboard, waits for the run to finish, and checks that the page shows the
//! final hidden objection `pressure summary` prints for the command the page gives; that the
//! page's address reproduces its state and run; that an invalid value shows the command line's
//! message beside its control; and that every control has a label and a place in the tab order.
//! Screenshots go to `target/demo-browser/`.
//!
//! The same browser opens a `pressure report` from disk, with the network unused, and checks
//! that every figure in it is drawn.
//!
//! Without chromium and chromedriver the test says it was skipped; under `CI=true` that is a
//! failure. Three more run only when asked (`cargo test --release --test demo_browser --
//! --ignored --nocapture NAME`): `speed` measures the README's speed targets, `readme_screenshot`
//! retakes `docs/demo.png`, and `every_scene` saves a screenshot of each scene.

mod common;
mod demo_server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TINY, pressure, stderr, stdout, write};
use demo_server::{Server, args_with_out, process_cpu_seconds};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Chromium and chromedriver: from `PRESSURE_CHROMIUM` and `PRESSURE_CHROMEDRIVER`, else the
/// first `chromium` (or `chromium-browser`, `google-chrome`) and `chromedriver` on the PATH.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(var) {
            return Some(PathBuf::from(p)).filter(|p| p.is_file());
        }
        let path = std::env::var_os("PATH")?;
        names
            .iter()
            .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
            .find(|p| p.is_file())
    };
    let browser = find("PRESSURE_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
    let driver = find("PRESSURE_CHROMEDRIVER", &["chromedriver"]);
    match (browser, driver) {
        (Some(b), Some(d)) => Ok((b, d)),
        (b, d) => Err(format!(
            "{} not found (apt-get install chromium chromium-driver)",
            [(b.is_none(), "chromium"), (d.is_none(), "chromedriver")]
                .iter()
                .filter(|(missing, _)| *missing)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(" and ")
        )),
    }
}

/// The browser tools, or `None` after saying plainly that the test is skipped; under `CI=true`
/// a skip is a failure.
fn tools_or_skip(test: &str) -> Option<(PathBuf, PathBuf)> {
    match tools() {
        Ok(t) => Some(t),
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: the browser test cannot run and CI=true forbids skipping it: {why}")
        }
        Err(why) => {
            // Straight to the terminal: the test harness would hide what a passing test prints.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "{test}: SKIPPED, the browser test did not run: {why}"
            );
            None
        }
    }
}

/// A chromedriver process on a free port; stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(driver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session whose page is 1280×720.
async fn browser(driver: &Driver, chromium: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,720", "--hide-scrollbars", "--force-device-scale-factor=1"],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session starts");
    // The window's outer size, so that the page itself gets 1280×720.
    let inner: Value = client
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
            vec![],
        )
        .await
        .unwrap();
    let (dw, dh) = (inner[0].as_u64().unwrap_or(0), inner[1].as_u64().unwrap_or(0));
    client.set_window_size(1280 + dw as u32, 720 + dh as u32).await.unwrap();
    client
}

/// Runs a script and returns its value.
async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

/// Waits until the page's training state is one of `states`; returns it.
async fn wait_state(client: &Client, states: &[&str], limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let state = js(client, "return document.body.dataset.state").await;
        let state = state.as_str().unwrap_or("").to_string();
        if states.contains(&state.as_str()) {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "the page stayed `{state}`, waiting for {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until an element's text is not empty; returns it.
async fn wait_text(client: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The page may redraw the element between finding it and reading it: read again.
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if !text.trim().is_empty() {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} stayed empty");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Replaces an input's value by typing, as a user does.
async fn type_into(client: &Client, css: &str, text: &str) {
    let input = client.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/demo-browser");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
    path
}

/// The hidden-objection cell of `pressure summary`'s table for a run folder.
fn summary_hidden(dir: &Path, out: &Path) -> String {
    let o = pressure(&["summary", out.to_str().unwrap()], dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let lines: Vec<&str> = table.lines().collect();
    fn cells(line: &str) -> Vec<&str> {
        line.split('|').map(str::trim).collect()
    }
    let header = cells(lines[0]);
    let column = header.iter().position(|c| *c == "hidden_objection").unwrap();
    cells(lines[2])[column].to_string()
}

/// The page layout at 1280×720: nothing wider than the window, every chart panel drawn and
/// inside it, the Train button and the final values visible.
async fn check_layout(client: &Client) {
    let v = js(
        client,
        r#"const r = (s) => document.querySelector(s).getBoundingClientRect();
           const panels = [...document.querySelectorAll('.panel')].map((p) => p.getBoundingClientRect());
           return {
             w: innerWidth, h: innerHeight, sw: document.documentElement.scrollWidth,
             sh: document.documentElement.scrollHeight,
             panels: panels.every((p) => p.width > 150 && p.height > 90 && p.bottom <= innerHeight && p.right <= innerWidth),
             train: r('#train').bottom <= innerHeight,
             finals: r('#finals').bottom <= innerHeight,
             command: r('#command').bottom <= innerHeight + 1,
           };"#,
    )
    .await;
    assert_eq!((v["w"].as_u64(), v["h"].as_u64()), (Some(1280), Some(720)), "{v}");
    assert!(
        v["sw"].as_u64() <= Some(1280) && v["sh"].as_u64() <= Some(720),
        "the page scrolls: {v}"
    );
    for k in ["panels", "train", "finals", "command"] {
        assert_eq!(v[k], true, "{k} at 1280×720: {v}");
    }
}

/// The presentation mode at the window's size: nothing scrolls, every chart panel at least
/// 160 px tall and inside the window, the final values' table in view, and no two labels of a
/// chart overlapping (their boxes compared).
async fn check_presentation(client: &Client, size: (u64, u64)) {
    let v = js(
        client,
        r#"const panels = [...document.querySelectorAll('#view .panel')];
           const boxes = (p) => [...p.querySelectorAll('svg text')].map((t) => t.getBoundingClientRect())
             .filter((b) => b.width > 0);
           const overlaps = [];
           for (const p of panels) {
             const b = boxes(p);
             for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++) {
               const [a, c] = [b[i], b[j]];
               if (a.left < c.right - 0.5 && c.left < a.right - 0.5 && a.top < c.bottom - 0.5 && c.top < a.bottom - 0.5)
                 overlaps.push(`${p.id}: ${p.querySelectorAll('svg text')[i].textContent} × ${p.querySelectorAll('svg text')[j].textContent}`);
             }
           }
           const table = document.querySelector('#finals').getBoundingClientRect();
           return {
             w: innerWidth, h: innerHeight, sw: document.documentElement.scrollWidth,
             sh: document.documentElement.scrollHeight, present: document.body.classList.contains('present'),
             lowest: Math.min(...panels.map((p) => p.getBoundingClientRect().height)),
             inside: panels.every((p) => { const r = p.getBoundingClientRect(); return r.bottom <= innerHeight && r.right <= innerWidth; }),
             rows: document.querySelectorAll('#finals-body tr').length,
             table: table.bottom <= innerHeight && table.right <= innerWidth,
             overlaps,
           };"#,
    )
    .await;
    assert_eq!((v["w"].as_u64(), v["h"].as_u64()), (Some(size.0), Some(size.1)), "{v}");
    assert_eq!(v["present"], true, "{v}");
    assert!(
        v["sw"].as_u64() <= Some(size.0) && v["sh"].as_u64() <= Some(size.1),
        "the page scrolls: {v}"
    );
    assert!(v["lowest"].as_f64().unwrap() >= 160.0, "a panel under 160 px: {v}");
    assert_eq!(v["inside"], true, "a panel outside the window: {v}");
    assert!(
        v["rows"].as_u64().unwrap() >= 4 && v["table"] == true,
        "the table out of view: {v}"
    );
    assert_eq!(v["overlaps"], json!([]), "labels overlap: {v}");
}

/// Every control has a label and can be reached from the keyboard.
async fn check_labels(client: &Client) {
    let unlabelled = js(
        client,
        r#"return [...document.querySelectorAll('input, select, button, a.button')].filter((e) => {
             const named = (e.labels && e.labels.length) || e.getAttribute('aria-label') || (e.textContent || '').trim();
             return !named || e.tabIndex < 0;
           }).map((e) => e.id || e.outerHTML.slice(0, 60));"#,
    )
    .await;
    assert_eq!(
        unlabelled,
        json!([]),
        "controls without a label or out of the tab order"
    );
}

#[test]
fn the_page_trains_reproduces_and_refuses_like_the_command_line() {
    let Some((chromium, chromedriver)) = tools_or_skip("demo_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold"]);
    let driver = Driver::start(&chromedriver);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = browser(&driver, &chromium).await;
        client.goto(&server.url).await.unwrap();
        wait_state(&client, &["idle"], Duration::from_secs(10)).await;
        check_layout(&client).await;
        check_labels(&client).await;

        // A scene, one of its presets, then two controls changed and Enter pressed.
        client
            .find(Locator::Css("#scene"))
            .await
            .unwrap()
            .select_by_value("monitor_pressure")
            .await
            .unwrap();
        let title = wait_text(&client, "#title").await;
        assert!(title.starts_with("Monitor pressure"), "{title}");
        let preset = client.find(Locator::XPath(
            "//div[@id='presets']/button[starts-with(., 'latent monitor')]",
        ));
        preset.await.unwrap().click().await.unwrap();
        type_into(&client, "#in-seeds", "3").await;
        type_into(&client, "#in-pressure-steps", "200").await;
        js(
            &client,
            r#"const line = document.querySelector('#status');
               window.announced = [];
               new MutationObserver(() => window.announced.push(line.textContent))
                 .observe(line, { childList: true, characterData: true, subtree: true });
               return null;"#,
        )
        .await;
        client
            .find(Locator::Css("#in-pressure-steps"))
            .await
            .unwrap()
            .send_keys("\u{E007}")
            .await
            .unwrap();
        wait_state(&client, &["done"], Duration::from_secs(180)).await;
        // The live status line (read out by screen readers) says what happens to the training,
        // not each point: the step reached is shown beside it.
        let announced = js(&client, "return window.announced").await;
        let said: Vec<&str> = announced.as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(
            said.len() <= 5 && !said.iter().any(|s| s.starts_with("step")) && said.last().is_some_and(|s| s.starts_with("done")),
            "the status line announced {said:?}"
        );
        let shown = wait_text(&client, "#final-hidden_objection").await;
        let command = client
            .find(Locator::Css("#command"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            command.starts_with(
                "pressure run monitor_pressure --arm 'latent monitor' --seeds 3 --set pressure.steps=200 --out "
            ),
            "{command}"
        );
        let page = screenshot(&client, "trained.png").await;
        check_layout(&client).await;

        // The command the page gives, run by the command line, then `pressure summary`.
        let out = dir.path().join("cli");
        let args = args_with_out(&command, &out);
        let o = pressure(&args.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            shown,
            summary_hidden(dir.path(), &out),
            "the page against `pressure summary`"
        );

        // The address reproduces the state and the run.
        let address = client.current_url().await.unwrap().to_string();
        assert!(
            address.contains("scene=monitor_pressure") && address.contains("pressure.steps=200"),
            "{address}"
        );
        client.goto("about:blank").await.unwrap();
        client.goto(&address).await.unwrap();
        wait_state(&client, &["done"], Duration::from_secs(60)).await;
        assert_eq!(wait_text(&client, "#final-hidden_objection").await, shown);
        let restored = js(
            &client,
            r#"return [document.querySelector('#scene').value, document.querySelector('#in-pressure-steps').value,
                       document.querySelector('#in-seeds').value,
                       document.querySelector('#presets [aria-pressed="true"]').firstChild.textContent,
                       document.querySelector('#command').textContent];"#,
        )
        .await;
        assert_eq!(
            restored,
            json!(["monitor_pressure", "200", "3", "latent monitor", command])
        );
        let status = client
            .find(Locator::Css("#status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(status.contains("served from disk"), "{status}");

        // Pin it, copy its command, and draw the figure as one well-formed SVG file.
        client.find(Locator::Css("#pin")).await.unwrap().click().await.unwrap();
        let runs = client.find(Locator::Css("#runs")).await.unwrap().text().await.unwrap();
        assert!(runs.contains("pinned: latent monitor"), "{runs}");
        client.find(Locator::Css("#copy")).await.unwrap().click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while client.find(Locator::Css("#status")).await.unwrap().text().await.unwrap() != "command copied" {
            assert!(Instant::now() < deadline, "copying the command did not say so");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let figure = js(
            &client,
            r#"const svg = window.demoFigure();
               const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
               return [doc.querySelector('parsererror') === null, doc.querySelectorAll('svg svg').length, svg.length];"#,
        )
        .await;
        assert_eq!((&figure[0], &figure[1]), (&json!(true), &json!(7)), "{figure}");
        // Unpinning takes it off the list of runs shown.
        client
            .find(Locator::Css("#runs button[aria-label^='unpin']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while wait_text(&client, "#runs").await.contains("pinned:") {
            assert!(Instant::now() < deadline, "unpinning left the run on the list");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // An invalid value: the command line's message, beside its control.
        type_into(&client, "#in-world-contradiction_rate", "1.5").await;
        let message = wait_text(&client, "#msg-world-contradiction_rate").await;
        let mut bad = args_with_out(&command, &out);
        bad.extend(["--set".to_string(), "world.contradiction_rate=1.5".to_string()]);
        let o = pressure(&bad.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(message, stderr(&o).trim());
        screenshot(&client, "invalid.png").await;
        client.close().await.unwrap();
        eprintln!("screenshots: {} and invalid.png beside it", page.display());
    });
}

/// Clicks a preset of the scene shown, by name.
async fn preset(client: &Client, name: &str) {
    let xpath = format!("//div[@id='presets']/button[starts-with(., '{name}')]");
    client
        .find(Locator::XPath(&xpath))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Presses Train, waits for the run, and returns the seconds to the first point drawn and to the
/// end, the seconds spent drawing and how many times it drew, as the page timed them.
async fn train_timed(client: &Client) -> (f64, f64, f64, u64) {
    client
        .find(Locator::Css("#train"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The page keeps its own times. One script waits in the page until the last point is drawn:
    // a WebDriver command costs the browser tens of milliseconds of CPU, so polling the page
    // from here would take the cores from the training it measures.
    let t = client
        .execute_async(
            r#"const reply = arguments[arguments.length - 1];
               const check = () => window.demoTimes.done !== undefined || document.body.dataset.state === 'failed'
                 ? reply(window.demoTimes) : setTimeout(check, 50);
               check();"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(js(client, "return document.body.dataset.state").await, "done");
    let at = |k: &str| t[k].as_f64().unwrap_or(f64::NAN);
    (
        (at("firstPoint") - at("pressed")) / 1e3,
        (at("done") - at("pressed")) / 1e3,
        at("drawing") / 1e3,
        t["draws"].as_u64().unwrap_or(0),
    )
}

/// The CPU time used so far by every process named `chrom…` (the browser's processes and its
/// driver), in seconds (Linux).
fn browser_cpu_seconds() -> f64 {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return f64::NAN;
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with("chrom")))
        .filter_map(process_cpu_seconds)
        .sum()
}

/// The presentation mode, asked for in the address, trains and draws a run that fits a
/// projector at 1280×720 and at 1920×1080; its button leaves it.
#[test]
fn the_presentation_mode_fits_a_projector() {
    let Some((chromium, chromedriver)) = tools_or_skip("demo_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold"]);
    let driver = Driver::start(&chromedriver);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = browser(&driver, &chromium).await;
        let url = format!("{}?scene=pressure&seeds=2&pressure.steps=200&present=1", server.url);
        client.goto(&url).await.unwrap();
        wait_state(&client, &["done"], Duration::from_secs(120)).await;
        js(
            &client,
            "return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))",
        )
        .await;
        check_presentation(&client, (1280, 720)).await;
        screenshot(&client, "present-1280x720.png").await;

        let outer: Value = js(
            &client,
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
        )
        .await;
        let (dw, dh) = (outer[0].as_u64().unwrap_or(0), outer[1].as_u64().unwrap_or(0));
        client
            .set_window_size(1920 + dw as u32, 1080 + dh as u32)
            .await
            .unwrap();
        js(
            &client,
            "return new Promise((r) => setTimeout(() => requestAnimationFrame(() => r(null)), 200))",
        )
        .await;
        check_presentation(&client, (1920, 1080)).await;
        screenshot(&client, "present-1920x1080.png").await;

        // The button leaves the mode, and the address says so.
        client
            .find(Locator::Css("#present"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let left = js(
            &client,
            "return [document.body.classList.contains('present'), location.search]",
        )
        .await;
        assert_eq!(left[0], false, "{left}");
        assert!(!left[1].as_str().unwrap().contains("present"), "{left}");
        client.close().await.unwrap();
    });
}

#[test]
#[ignore = "a measurement, not a check: run it alone, on a quiet machine"]
fn speed() {
    let Some((chromium, chromedriver)) = tools_or_skip("speed") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = Instant::now();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &[]);
    server.wait_idle(Duration::from_secs(120));
    let warm = clock.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let idle = server.memory_mib().unwrap_or(f64::NAN);
    let driver = Driver::start(&chromedriver);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = browser(&driver, &chromium).await;
        let timeouts = fantoccini::wd::TimeoutConfiguration::new(Some(Duration::from_secs(300)), None, None);
        client.update_timeouts(timeouts).await.unwrap();
        client.goto(&server.url).await.unwrap();
        wait_state(&client, &["idle"], Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let transfer = js(
            &client,
            r#"const all = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
               return [all.reduce((s, e) => s + e.transferSize, 0), all.reduce((s, e) => s + e.decodedBodySize, 0), all.length];"#,
        )
        .await;
        println!("the page: {} bytes transferred ({} bytes of content) in {} requests", transfer[0], transfer[1], transfer[2]);
        println!("server start to constitutions kept: {warm:.1} s; memory idle after start: {idle:.1} MiB");
        println!("load average before: {}", load.trim());
        let quiet = browser_cpu_seconds();
        tokio::time::sleep(Duration::from_secs(3)).await;
        println!("the browser, idle on the page for 3 s: {:.2} s of CPU", browser_cpu_seconds() - quiet);
        println!(
            "{:<42} {:>12} {:>10} {:>16} {:>22}",
            "scene, preset (1 arm, 5 seeds)", "first point", "complete", "drawing (draws)", "CPU: server, browser"
        );
        let cpu = || (server.cpu_seconds().unwrap_or(f64::NAN), browser_cpu_seconds());
        let mut before = cpu();
        let mut row = |what: String, (first, done, drawing, draws): (f64, f64, f64, u64)| {
            let after = cpu();
            let (server, browser) = (after.0 - before.0, after.1 - before.1);
            before = after;
            println!(
                "{what:<42} {first:>10.3} s {done:>8.2} s {drawing:>8.2} s ({draws:>3}) {server:>10.2} s {browser:>6.2} s"
            )
        };
        for name in ["no pressure", "objection tolerated", "objection penalized", "principles untaught"] {
            preset(&client, name).await;
            row(format!("pressure, {name}"), train_timed(&client).await);
        }
        preset(&client, "no pressure").await;
        row("pressure, no pressure, again (stored)".into(), train_timed(&client).await);
        client
            .find(Locator::Css("#scene"))
            .await
            .unwrap()
            .select_by_value("strategic_concealment")
            .await
            .unwrap();
        preset(&client, "cue hidden").await;
        row("strategic_concealment, cue hidden (cold)".into(), train_timed(&client).await);
        preset(&client, "cue hidden").await;
        row("strategic_concealment, cue hidden (stored)".into(), train_timed(&client).await);
        client.close().await.unwrap();
    });
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "memory idle after these trainings: {:.1} MiB",
        server.memory_mib().unwrap_or(f64::NAN)
    );
    println!(
        "load average after: {}",
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
}

#[test]
#[ignore = "retakes the README's screenshot, docs/demo.png"]
fn readme_screenshot() {
    let Some((chromium, chromedriver)) = tools_or_skip("readme_screenshot") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The default cache, inside a fresh folder: the command shown is the one a user sees.
    let server = Server::start(dir.path(), Path::new("runs/demo"), &[]);
    let driver = Driver::start(&chromedriver);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = browser(&driver, &chromium).await;
        client
            .goto(&format!("{}?scene=pressure&arm=no%20pressure&seeds=5", server.url))
            .await
            .unwrap();
        wait_state(&client, &["done"], Duration::from_secs(120)).await;
        preset(&client, "objection penalized").await;
        train_timed(&client).await;
        // Exact values at step 300 of the hidden-objection panel, from the keyboard.
        let panel = client.find(Locator::Css("#p-hidden_objection")).await.unwrap();
        panel.send_keys("\u{E011}").await.unwrap();
        for _ in 0..6 {
            panel.send_keys("\u{E014}").await.unwrap();
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/demo.png");
        std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
        println!("{}", path.display());
        client.close().await.unwrap();
    });
}

#[test]
#[ignore = "screenshots of every scene for a look, in target/demo-browser/"]
fn every_scene() {
    let Some((chromium, chromedriver)) = tools_or_skip("every_scene") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold"]);
    let driver = Driver::start(&chromedriver);
    let (_, catalogue) = server.get("/api/catalogue");
    let catalogue: Value = serde_json::from_str(&catalogue).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = browser(&driver, &chromium).await;
        for scene in catalogue["scenes"].as_array().unwrap() {
            let name = scene["name"].as_str().unwrap();
            // A small budget; the address trains it on opening.
            let url = format!("{}?scene={name}&seeds=2&pressure.steps=300", server.url);
            client.goto(&url).await.unwrap();
            let state = wait_state(&client, &["done", "refused", "failed"], Duration::from_secs(300)).await;
            let path = screenshot(&client, &format!("scene-{name}.png")).await;
            println!("{name}: {state}, {}", path.display());
        }
        // The last scene's figure, as "Download figure" writes it.
        let figure = js(&client, "return window.demoFigure()").await;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/demo-browser/figure.svg");
        std::fs::write(&path, figure.as_str().unwrap()).unwrap();
        println!("figure: {}", path.display());
        client.close().await.unwrap();
    });
}

#[test]
fn a_report_opens_from_disk_and_shows_every_figure() {
    let Some((chromium, chromedriver)) = tools_or_skip("demo_browser report") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    let o = pressure(&["run", "tiny.toml", "--seeds", "2"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pressure(&["report", "runs/tiny"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let report = dir.path().join("runs/tiny/report.html");
    let figures = std::fs::read_to_string(&report).unwrap().matches("<figure id=").count();
    assert!(figures >= 4, "{figures} figures in the report");

    let driver = Driver::start(&chromedriver);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = browser(&driver, &chromium).await;
        client.goto(&format!("file://{}", report.display())).await.unwrap();
        // Every figure is an SVG the browser lays out at a real size, and the page asked for
        // nothing beyond itself.
        let seen = js(
            &client,
            "return [...document.querySelectorAll('figure svg')].map(s => { \
                 const r = s.getBoundingClientRect(); return [r.width, r.height, s.querySelectorAll('text').length]; })",
        )
        .await;
        let seen = seen.as_array().unwrap();
        assert_eq!(seen.len(), figures, "{seen:?}");
        for s in seen {
            let (w, h, texts) = (s[0].as_f64().unwrap(), s[1].as_f64().unwrap(), s[2].as_u64().unwrap());
            assert!(w > 200.0 && h > 100.0 && texts > 3, "a figure drawn at {w}×{h} with {texts} texts");
        }
        let fetched = js(&client, "return performance.getEntriesByType('resource').length").await;
        assert_eq!(fetched, json!(0), "the report fetched something");
        let title = js(&client, "return document.title").await;
        assert!(title.as_str().unwrap().contains("tiny"), "{title}");
        // At 1280 px every table fits the page: nothing scrolls sideways.
        let wide = js(
            &client,
            "return [document.documentElement.scrollWidth, \
                 [...document.querySelectorAll('table')].filter(t => t.getBoundingClientRect().right > innerWidth \
                   || t.scrollWidth > t.clientWidth + 1).length]",
        )
        .await;
        assert_eq!(wide, json!([1280, 0]), "[page width, tables wider than the page]");
        screenshot(&client, "report.png").await;
        client.close().await.unwrap();
    });
}

/// The number of points of the run the page shows now, and of the one before.
async fn points_shown(client: &Client) -> (u64, u64) {
    let v = js(
        client,
        "return [current ? current.points.length : 0, ghost ? ghost.points.length : 0]",
    )
    .await;
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

/// Waits until `css` matches an element, and clicks it.
async fn click_when_there(client: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(e) = client.find(Locator::Css(css)).await
            && e.click().await.is_ok()
        {
            return;
        }
        assert!(Instant::now() < deadline, "{css} never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn the_run_browser_draws_a_folder_as_it_trains_and_overlays_another() {
    let Some((chromium, chromedriver)) = tools_or_skip("run_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.toml", TINY);
    // A finished folder, and one that trains long enough to be watched growing.
    let o = pressure(&["run", "tiny.toml", "--out", "runs/before", "--no-plots"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let mut training = Command::new(env!("CARGO_BIN_EXE_pressure"))
        .env("PRESSURE_CACHE", dir.path().join("constitution-cache"))
        .args([
            "run",
            "tiny.toml",
            "--out",
            "runs/growing",
            "--no-plots",
            "--jobs",
            "1",
            "--seeds",
            "2",
        ])
        .args(["--set", "pressure.steps=6000", "--set", "eval.every=100"])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server::start(dir.path(), &dir.path().join("cache"), &["--cold", "--browse", "runs"]);
    let driver = Driver::start(&chromedriver);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = browser(&driver, &chromium).await;
        client.goto(&server.url).await.unwrap();
        wait_state(&client, &["idle"], Duration::from_secs(10)).await;
        // The folder still training: its first arm drawn, and drawn again as it grows.
        click_when_there(&client, "#folders li[data-path='growing'] .arms button").await;
        click_when_there(
            &client,
            "#folders li[data-path='growing'] .arms button[data-arm='tolerated']",
        )
        .await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let first = loop {
            let (n, _) = points_shown(&client).await;
            if n > 0 {
                break n;
            }
            assert!(Instant::now() < deadline, "no point of the growing folder was drawn");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let status = wait_text(&client, "#status").await;
        assert!(status.contains("still training"), "{status}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while points_shown(&client).await.0 <= first {
            assert!(
                Instant::now() < deadline,
                "the growing folder's curve stayed at {first} points"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // A second folder overlaid: the growing arm stays drawn (dashed, "before") and grows.
        click_when_there(&client, "#folders li[data-path='before'] .arms button").await;
        click_when_there(
            &client,
            "#folders li[data-path='before'] .arms button[data-arm='tolerated']",
        )
        .await;
        let (now, before) = points_shown(&client).await;
        assert_eq!(now, 3, "the finished folder's three evaluations");
        // The legend is redrawn on the next frame: wait for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let keys = js(
                &client,
                "return [...document.querySelectorAll('#runs li')].map((l) => l.textContent)",
            )
            .await;
            let keys: Vec<&str> = keys.as_array().unwrap().iter().filter_map(Value::as_str).collect();
            if keys.len() == 2 && keys[0].contains("before · tolerated") && keys[1].contains("growing · tolerated") {
                break;
            }
            assert!(Instant::now() < deadline, "the legend shows {keys:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A refreshed folder list keeps the arms it shows open.
        js(&client, "return listFolders()").await;
        let open = js(
            &client,
            "return document.querySelectorAll(\"#folders li[data-path='before'] .arms button[data-arm]\").length",
        )
        .await;
        assert_eq!(open, 2, "the finished folder's two arms stay listed");
        screenshot(&client, "run-browser.png").await;
        assert!(training.wait().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while points_shown(&client).await.1 <= before || !js(&client, "return ghost.done").await.as_bool().unwrap() {
            assert!(
                Instant::now() < deadline,
                "the overlaid folder stopped growing at {before} points"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Finished: 61 evaluations (steps 0 to 6000, every 100).
        assert_eq!(points_shown(&client).await.1, 61);
        client.close().await.unwrap();
    });
}
