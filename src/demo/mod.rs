//! `pressure demo`: a teaching demo of selection pressure in the browser (docs/model.md §8).
//!
//! One command serves one page from the binary, on loopback by default, and prints its
//! address. A lecturer picks a scene (one per shipped experiment, and free play), presses
//! Train, and the curves of the same runs the command line trains are drawn as the runner
//! measures them; the page gives the `pressure run` command that reproduces what it shows.
//! Runs go through the library's runner into a run cache (`runs/demo/` by default), so a
//! configuration trained once is served from disk at once, by the demo or by that command.
//!
//! - `scenes`: the lessons; `controls`: the settings the page shows and the key each sets;
//! - `request`: the page's address turned into the command line that trains it, with the
//!   demo's limits;
//! - `jobs`: one training at a time, a few waiting; `live`: what the page is sent as it trains;
//! - `server`: the routes, the embedded assets (`web/`) and the catalogue; `hosts`: the names
//!   it answers to, and the page a request that trains must come from.

pub mod browse;
pub mod controls;
pub mod hosts;
pub mod jobs;
pub mod live;
pub mod request;
pub mod scenes;
pub mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::experiment::Constitutions;
use jobs::Trainer;
use server::{App, router};

/// Arguments of `pressure demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// The port to serve on (0: any free port; the address printed says which).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// The address to serve on. The default is reachable from this machine only; 0.0.0.0 opens
    /// the page (and its training) to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Answer to this name too (repeatable): the page is served only to addresses naming this
    /// server as the bound address, localhost, 127.0.0.1 or [::1] (with or without the port),
    /// e.g. `--allow-host 192.168.1.20` with `--host 0.0.0.0`. With `:PORT`, that port only.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Open (and print) the page in its presentation mode: larger type, the charts given the
    /// screen, everything that matters visible at 1280×720; its Present button toggles it.
    #[arg(long)]
    pub present: bool,
    /// The run cache: each scene's runs are kept in DIR/<experiment>/ and served from there
    /// when asked for again.
    #[arg(long, value_name = "DIR", default_value = "runs/demo")]
    pub runs: PathBuf,
    /// Do not train the first scene's constitutions before the first request.
    #[arg(long)]
    pub cold: bool,
    /// Neither read nor write the constitution cache (`$PRESSURE_CACHE`, else
    /// `~/.cache/pressure`); constitutions are then kept in memory only, while the server runs.
    #[arg(long)]
    pub no_cache: bool,
    /// The most RL steps of each run (pressure and followup together) a page may ask.
    #[arg(long, value_name = "N", default_value_t = request::MAX_STEPS)]
    pub max_steps: usize,
    /// The most seeds a page may ask.
    #[arg(long, value_name = "N", default_value_t = request::MAX_SEEDS)]
    pub max_seeds: u64,
    /// Also list the run folders under DIR, and draw any of them, overlaid and live while they
    /// train (what `pressure browse DIR` does).
    #[arg(long, value_name = "DIR")]
    pub browse: Option<PathBuf>,
    /// Trainings at once, 1 to the number of cores; the cores are shared among them.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Requests that may wait their turn; one more is refused until a place frees. At most
    /// `--jobs` + `--queue` answers, stored or trained, are sent at once.
    #[arg(long, value_name = "N", default_value_t = request::WAITING)]
    pub queue: usize,
}

/// Threads that read requests and stored runs (not trainings): a burst of requests waits for
/// them rather than starting a thread each.
pub const BLOCKING_THREADS: usize = 4;

/// `pressure demo`: serves the page until interrupted.
pub fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let (ip, threads) = check(&args)?;
    let limits = request::Limits {
        seeds: args.max_seeds,
        steps: args.max_steps,
        trainings: args.jobs,
        waiting: args.queue,
    };
    std::fs::create_dir_all(&args.runs)
        .with_context(|| format!("--runs {}: cannot create the run cache", args.runs.display()))?;
    let warm = (!args.cold).then(|| {
        let first = &scenes::SCENES[0];
        request::Request::parse(&[("scene".into(), first.name.into())])
            .and_then(|r| r.experiment(&args.runs))
            .expect("the first scene is valid")
    });
    let trainer = Trainer::start(threads, limits, warm, Constitutions::for_command(args.no_cache));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, args.port))
            .await
            .with_context(|| format!("--port {}: cannot listen on {ip}:{}", args.port, args.port))?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App::new(
            args.runs.clone(),
            trainer,
            limits,
            hosts::Hosts::new(addr, &args.allow_host),
            args.browse.clone(),
        ));
        let url = match addr {
            SocketAddr::V6(a) => format!("http://[{}]:{}/", a.ip(), a.port()),
            SocketAddr::V4(a) => format!("http://{a}/"),
        };
        let url = if args.present { format!("{url}?present") } else { url };
        // Start-up says one line, the address (the limits and the run cache are in --help); a
        // server others can reach says so too.
        println!("pressure demo: {url}");
        if !ip.is_loopback() {
            crate::note!(
                "warning: --host {ip}: anyone who can reach this machine can open the page and train on it \
                 (within --max-seeds {} and --max-steps {}), at an address it answers to (the one it listens on, or a name \
                 given with --allow-host); the default, 127.0.0.1, serves this machine only",
                limits.seeds,
                limits.steps
            );
        }
        if args.open {
            open(&url);
        }
        // Ctrl-C stops at once, open streams and all: a training in flight is lost, and the
        // runs it finished are on disk.
        let serve = std::future::IntoFuture::into_future(axum::serve(listener, router(app)));
        tokio::select! {
            served = serve => served.context("the server stopped"),
            _ = tokio::signal::ctrl_c() => {
                crate::note!("pressure demo: stopped");
                Ok(())
            }
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    served?;
    Ok(ExitCode::SUCCESS)
}

/// The address to listen on and the machine's cores, once every flag is checked.
fn check(args: &DemoArgs) -> anyhow::Result<(std::net::IpAddr, usize)> {
    let ip: std::net::IpAddr = args
        .host
        .parse()
        .map_err(|_| anyhow::anyhow!("--host {}: not an IP address, e.g. 127.0.0.1 or 0.0.0.0", args.host))?;
    for (flag, value) in [
        ("--max-steps", args.max_steps),
        ("--max-seeds", args.max_seeds as usize),
        ("--jobs", args.jobs),
    ] {
        anyhow::ensure!(value >= 1, "{flag} {value}: must be 1 or more");
    }
    // Each training is a thread sharing the cores: more than the cores cannot be used.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    anyhow::ensure!(
        args.jobs <= threads,
        "--jobs {}: must be 1 to {threads}, the cores of this machine",
        args.jobs
    );
    if let Some(dir) = &args.browse {
        anyhow::ensure!(
            dir.is_dir(),
            "{}: {}; the run browser lists the run folders under a folder (e.g. runs/)",
            dir.display(),
            if dir.exists() { "not a folder" } else { "no such folder" }
        );
    }
    for name in &args.allow_host {
        hosts::check_name(name).map_err(anyhow::Error::msg)?;
    }
    Ok((ip, threads))
}

/// Opens `url` in the default browser; says so when it cannot.
fn open(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    // The opener's own complaints (no browser, no display) would bury the address: one line.
    let spawned = std::process::Command::new(program)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let url = url.to_string();
    match spawned {
        Err(_) => crate::note!("pressure demo: --open: cannot run {program}; open {url} yourself"),
        Ok(mut child) => {
            std::thread::spawn(move || {
                if !child.wait().is_ok_and(|s| s.success()) {
                    crate::note!("pressure demo: --open: {program} found no browser to open; open {url} yourself");
                }
            });
        }
    }
}
