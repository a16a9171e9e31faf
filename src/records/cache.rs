//! The constitution cache: trained constitution models kept on disk by the content of what they
//! depend on, so `run`, `robustness`, refinement rounds, new arms of an old experiment and the
//! demo train each one once on a machine.
//!
//! A constitution depends only on its seed, its settings (`run::constitution_key`), the backend
//! and the version of the training arithmetic; a member's results never depend on the others
//! in its population. So a cached one is bit for bit the one that would be trained, and using it
//! changes no number. The key names all of these; the file is named by its SHA-256.
//!
//! ```text
//! <cache>/constitutions/<sha256 of the key>.json   first line: sha256 of the rest; then JSON
//! ```
//!
//! Safe as run folders are: a file is written under a temporary name and renamed into place, so
//! a reader never sees half of one; every file is checked against its own SHA-256 and its key
//! before it is used, and one that fails is ignored (and replaced when trained again). Two
//! writers of one key write the same bytes. The cache is bounded: past [`MAX_BYTES`] the least
//! recently used files are removed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::policy::probe::LinearProbe;
use crate::policy::{LayerParams, MemberParams};
use crate::run::Constitution;

/// The environment variable that names the cache folder (default: `$XDG_CACHE_HOME/pressure`,
/// else `~/.cache/pressure`).
pub const CACHE_ENV: &str = "PRESSURE_CACHE";

/// The most the cache's constitutions may take on disk (each is about 80 kB at the default policy).
pub const MAX_BYTES: u64 = 256 << 20;

/// The largest cache file read (a constitution of the widest policy `policy.validate` allows is
/// far below it; anything bigger is not one of ours).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// The constitutions kept on disk in one folder.
#[derive(Debug, Clone)]
pub struct ConstitutionCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// One layer as stored.
#[derive(Serialize, Deserialize)]
struct StoredLayer {
    input: usize,
    output: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// A constitution as stored, with the key it was stored under.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    key: String,
    layers: Vec<StoredLayer>,
    probe_weights: Vec<f64>,
    probe_bias: f64,
    accuracy: Vec<(String, f64)>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl ConstitutionCache {
    /// The cache in `dir` (created when first written).
    pub fn open(dir: &Path) -> ConstitutionCache {
        ConstitutionCache {
            dir: dir.join("constitutions"),
            max_bytes: MAX_BYTES,
        }
    }

    /// The same cache with another bound (for tests of eviction).
    pub fn with_max_bytes(self, max_bytes: u64) -> ConstitutionCache {
        ConstitutionCache { max_bytes, ..self }
    }

    /// The user's cache folder: `$PRESSURE_CACHE`, else `$XDG_CACHE_HOME/pressure`, else
    /// `~/.cache/pressure`; `None` when none of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        var(CACHE_ENV)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("pressure")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("pressure")))
    }

    /// The folder the constitutions are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", sha256_hex(key.as_bytes())))
    }

    /// The constitution stored under `key`, if there is one that passes its checks.
    pub fn load(&self, key: &str) -> Option<Constitution> {
        let path = self.path(key);
        let text = super::read_limited(&path, MAX_FILE_BYTES).ok()?;
        let (digest, body) = text.split_once('\n')?;
        if digest != sha256_hex(body.as_bytes()) {
            return None;
        }
        let stored: Stored = serde_json::from_str(body).ok()?;
        if stored.key != key
            || !stored
                .layers
                .iter()
                .all(|l| l.weight.len() == l.input * l.output && l.bias.len() == l.output)
        {
            return None;
        }
        // Used now: the last to be removed when the cache is full.
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(Constitution {
            params: MemberParams {
                layers: stored
                    .layers
                    .into_iter()
                    .map(|l| LayerParams {
                        input: l.input,
                        output: l.output,
                        weight: l.weight,
                        bias: l.bias,
                    })
                    .collect(),
            },
            probe: LinearProbe {
                weights: stored.probe_weights,
                bias: stored.probe_bias,
            },
            accuracy: stored.accuracy,
            diverged: None,
        })
    }

    /// Keeps `constitution` under `key`. A diverged one, or one holding a value that is not
    /// finite, is not kept (it is cheap to meet again, and JSON has no NaN). A cache that cannot
    /// be written is said once and otherwise ignored: it never stops a run.
    pub fn store(&self, key: &str, constitution: &Constitution) {
        let c = constitution;
        let finite = c
            .params
            .layers
            .iter()
            .all(|l| l.weight.iter().chain(&l.bias).all(|x| x.is_finite()))
            && c.probe.weights.iter().all(|x| x.is_finite())
            && c.probe.bias.is_finite()
            && c.accuracy.iter().all(|(_, v)| v.is_finite());
        if c.diverged.is_some() || !finite {
            return;
        }
        let stored = Stored {
            key: key.to_string(),
            layers: c
                .params
                .layers
                .iter()
                .map(|l| StoredLayer {
                    input: l.input,
                    output: l.output,
                    weight: l.weight.clone(),
                    bias: l.bias.clone(),
                })
                .collect(),
            probe_weights: c.probe.weights.clone(),
            probe_bias: c.probe.bias,
            accuracy: c.accuracy.clone(),
        };
        let body = serde_json::to_string(&stored).expect("a constitution serializes");
        let text = format!("{}\n{body}", sha256_hex(body.as_bytes()));
        if let Err(e) = self.write(&self.path(key), text.as_bytes()) {
            static SAID: AtomicBool = AtomicBool::new(false);
            if !SAID.swap(true, Ordering::Relaxed) {
                crate::note!(
                    "note: the constitution cache {} cannot be written ({e}); constitutions are trained as usual",
                    self.dir.display()
                );
            }
            return;
        }
        self.evict();
    }

    /// Writes through a temporary name unique to this writer (process and call), then renames.
    fn write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        static CALLS: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(&self.dir)?;
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".tmp-{}-{n}", std::process::id()));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// Removes the least recently used files until the cache takes at most three quarters of
    /// its bound, once it is past the bound.
    fn evict(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.max_bytes {
            return;
        }
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes / 4 * 3 {
                break;
            }
            // Another writer may have removed it first.
            let _ = std::fs::remove_file(&path);
            total = total.saturating_sub(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constitution(x: f32) -> Constitution {
        Constitution {
            params: MemberParams {
                layers: vec![LayerParams {
                    input: 2,
                    output: 1,
                    weight: vec![x, 0.1 + x],
                    bias: vec![f32::MIN_POSITIVE],
                }],
            },
            probe: LinearProbe {
                weights: vec![1.0 / 3.0],
                bias: -0.25,
            },
            accuracy: vec![("act_accuracy".into(), 0.123_456_789_012_345_67)],
            diverged: None,
        }
    }

    #[test]
    fn a_stored_constitution_comes_back_bit_for_bit_under_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ConstitutionCache::open(dir.path());
        let c = constitution(0.7);
        cache.store("k1", &c);
        let back = cache.load("k1").expect("stored");
        assert_eq!(back.params, c.params);
        assert_eq!(back.probe, c.probe);
        assert_eq!(back.accuracy, c.accuracy);
        assert!(cache.load("k2").is_none());
    }

    #[test]
    fn a_damaged_or_diverged_constitution_is_never_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ConstitutionCache::open(dir.path());
        cache.store("k", &constitution(0.5));
        let path = cache.path("k");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("0.5", "0.6")).unwrap();
        assert!(cache.load("k").is_none(), "a changed number fails its SHA-256");
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(cache.load("k").is_none(), "half a file is not used");

        let mut diverged = constitution(0.5);
        diverged.diverged = Some("the constitution diverged".into());
        cache.store("d", &diverged);
        assert!(cache.load("d").is_none());
        cache.store("nan", &constitution(f32::NAN));
        assert!(cache.load("nan").is_none());
    }

    #[test]
    fn past_its_bound_the_least_recently_used_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let one = {
            let probe = ConstitutionCache::open(dir.path());
            probe.store("size", &constitution(0.0));
            std::fs::metadata(probe.path("size")).unwrap().len()
        };
        // Room for five files: the sixth is one too many.
        let bound = one * 11 / 2;
        let cache = ConstitutionCache::open(dir.path()).with_max_bytes(bound);
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for k in 0..4 {
            cache.store(&format!("k{k}"), &constitution(k as f32));
            let f = std::fs::File::options()
                .append(true)
                .open(cache.path(&format!("k{k}")))
                .unwrap();
            f.set_modified(old + std::time::Duration::from_secs(k)).unwrap();
        }
        cache.load("k0").expect("k0 is kept"); // used now: the most recent
        cache.store("k4", &constitution(4.0));
        let kept: Vec<bool> = (0..5).map(|k| cache.path(&format!("k{k}")).exists()).collect();
        assert!(kept[0] && kept[4], "the used and the newest stay: {kept:?}");
        assert!(!kept[1], "the least recently used goes first: {kept:?}");
        let total: u64 = std::fs::read_dir(cache.dir())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(
            total <= bound / 4 * 3,
            "at most three quarters of the bound remain: {total} > {}",
            bound / 4 * 3
        );
    }
}
