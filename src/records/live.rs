//! A run's rows while it trains: `runs/<id>/live.csv`, in the format of the run's `metrics.csv`,
//! appended after each evaluation and removed once the run's `metrics.csv` and `status.json`
//! are in place. Rows are appended whole lines at a time, and a reader takes only lines that
//! end in a newline, so it never sees a partial row, even while a write is under way.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{RUN_METRICS_HEADER, Row};

/// The name of a run's live file inside its folder.
pub const LIVE_FILE: &str = "live.csv";

/// Appends one run's rows to its live file as they are measured.
#[derive(Debug)]
pub struct LiveWriter {
    path: PathBuf,
    file: File,
}

impl LiveWriter {
    /// Starts the run's live file afresh (a file left by an interrupted run is replaced).
    pub fn create(run_dir: &Path) -> std::io::Result<LiveWriter> {
        std::fs::create_dir_all(run_dir)?;
        let path = run_dir.join(LIVE_FILE);
        let mut file = File::create(&path)?;
        file.write_all(format!("{}\n", RUN_METRICS_HEADER.join(",")).as_bytes())?;
        Ok(LiveWriter { path, file })
    }

    /// Appends `rows` in one write, written exactly as the run's `metrics.csv` will hold them.
    pub fn append(&mut self, rows: &[Row]) -> std::io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        for r in rows {
            w.write_record([&r.step.to_string(), &r.scope, &r.metric, &r.value.to_string()])
                .expect("writing to memory");
        }
        let bytes = w.into_inner().expect("writing to memory");
        self.file.write_all(&bytes)
    }

    /// Removes the live file: the run's `metrics.csv` now holds its rows.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a run's rows file (`live.csv` while it trains, `metrics.csv` once written) a piece at
/// a time: each call reads only what was appended since the last one, and keeps a trailing
/// line without its newline for the next.
#[derive(Debug, Default, Clone)]
pub struct RowReader {
    /// Bytes of the file already parsed (whole lines).
    offset: u64,
    pub rows: Vec<Row>,
}

impl RowReader {
    /// Reads what was appended to `path` since the last call. `Ok(false)` when there is no such
    /// file; an error names the file and line that cannot be parsed.
    pub fn read(&mut self, path: &Path) -> Result<bool, String> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(format!("{}: cannot be read: {e}", path.display())),
        };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(self.offset))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
        let Some(end) = bytes.iter().rposition(|&b| b == b'\n').map(|i| i + 1) else {
            return Ok(true);
        };
        let mut lines = bytes[..end].split(|&b| b == b'\n').filter(|l| !l.is_empty());
        if self.offset == 0 {
            let header = lines.next().unwrap_or_default();
            if header != RUN_METRICS_HEADER.join(",").as_bytes() {
                return Err(format!(
                    "{}: header is `{}`, expected `{}`",
                    path.display(),
                    String::from_utf8_lossy(header).escape_debug(),
                    RUN_METRICS_HEADER.join(",")
                ));
            }
        }
        for line in lines {
            let row = parse_row(line).ok_or_else(|| {
                format!(
                    "{}: bad row `{}`",
                    path.display(),
                    String::from_utf8_lossy(line).escape_debug()
                )
            })?;
            self.rows.push(row);
        }
        self.offset += end as u64;
        Ok(true)
    }
}

/// `step,scope,metric,value`; scope and metric names hold no comma or quote.
fn parse_row(line: &[u8]) -> Option<Row> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split(',');
    let row = Row {
        step: fields.next()?.parse().ok()?,
        scope: fields.next()?.to_string(),
        metric: fields.next()?.to_string(),
        value: fields.next()?.parse().ok()?,
    };
    fields.next().is_none().then_some(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: usize, value: f64) -> Row {
        Row {
            step,
            scope: "trained".into(),
            metric: "refusal".into(),
            value,
        }
    }

    #[test]
    fn a_reader_takes_whole_rows_only_and_reads_each_byte_once() {
        let dir = std::env::temp_dir().join(format!("pressure-live-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut w = LiveWriter::create(&dir).unwrap();
        let mut r = RowReader::default();
        assert!(r.read(&dir.join(LIVE_FILE)).unwrap());
        assert!(r.rows.is_empty());
        w.append(&[row(0, 0.5), row(0, f64::NAN)]).unwrap();
        // A row half written: the reader leaves it for later.
        w.file.write_all(b"100,trained,refusal,0.2").unwrap();
        r.read(&dir.join(LIVE_FILE)).unwrap();
        assert_eq!(r.rows.len(), 2);
        assert!(r.rows[1].value.is_nan());
        w.file.write_all(b"5\n").unwrap();
        r.read(&dir.join(LIVE_FILE)).unwrap();
        assert_eq!(r.rows.len(), 3);
        assert_eq!(r.rows[2], row(100, 0.25));
        // The live file holds exactly the bytes the run's metrics.csv will.
        let text = std::fs::read(dir.join(LIVE_FILE)).unwrap();
        assert_eq!(text, super::super::run_metrics_csv(&r.rows));
        w.remove();
        assert!(!r.read(&dir.join(LIVE_FILE)).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_row_is_named() {
        assert!(parse_row(b"1,trained,refusal,x").is_none());
        assert!(parse_row(b"1,trained,refusal,0.1,9").is_none());
        assert_eq!(
            parse_row(b"3,train,loss,-1.5"),
            Some(Row {
                step: 3,
                scope: "train".into(),
                metric: "loss".into(),
                value: -1.5
            })
        );
    }
}
