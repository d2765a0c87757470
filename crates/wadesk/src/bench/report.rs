//! The report: every figure with its baseline or target, the environment it was measured in,
//! printed as a table and written as JSON.

use std::{fmt::Write, path::Path, time::Duration};

use serde::Serialize;

use super::{
    params::{Mode, Params},
    stats::{ms, percentile},
};

/// What a figure is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Reference {
    /// Measured in the same run; the ratio is informative.
    Baseline(f64),
    /// A target the figure should reach.
    AtLeast(f64),
    /// A target the figure should stay within.
    AtMost(f64),
}

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable identifier (JSON consumers key on it).
    pub key: &'static str,
    pub label: String,
    pub value: f64,
    pub unit: &'static str,
    pub reference: Option<Reference>,
    /// `value` ÷ the reference's value.
    pub ratio: Option<f64>,
    /// Whether a target is met (`None` without a target).
    pub met: Option<bool>,
    /// For latencies: the whole distribution, in the figure's unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
}

/// A latency distribution in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Distribution {
    pub samples: usize,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Distribution {
    pub fn of(samples: &[Duration]) -> Self {
        let total: Duration = samples.iter().sum();
        Self {
            samples: samples.len(),
            mean: ms(total) / samples.len().max(1) as f64,
            p50: ms(percentile(samples, 50.0)),
            p90: ms(percentile(samples, 90.0)),
            p99: ms(percentile(samples, 99.0)),
            max: ms(percentile(samples, 100.0)),
        }
    }
}

impl Figure {
    pub fn new(
        key: &'static str,
        label: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Self {
        Self {
            key,
            label: label.into(),
            value,
            unit,
            reference: None,
            ratio: None,
            met: None,
            distribution: None,
        }
    }

    /// Attaches the distribution `samples` came from.
    pub fn spread(mut self, samples: &[Duration]) -> Self {
        self.distribution = Some(Distribution::of(samples));
        self
    }

    pub fn against(mut self, reference: Reference) -> Self {
        let (r, met) = match reference {
            Reference::Baseline(b) => (b, None),
            Reference::AtLeast(t) => (t, Some(self.value >= t)),
            Reference::AtMost(t) => (t, Some(self.value <= t)),
        };
        self.reference = Some(reference);
        self.ratio = (r != 0.0).then(|| self.value / r);
        self.met = met;
        self
    }
}

/// Where and how the figures were measured.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub backend: String,
    pub database_version: String,
    pub mode: Mode,
    pub cpus: usize,
    pub cpu_model: Option<String>,
    pub memory_mib: Option<u64>,
    pub os: String,
    /// `release` or `debug`: figures mean something only from a release build.
    pub build: &'static str,
    pub git_commit: Option<String>,
    /// Uncommitted changes to tracked files when measured.
    pub git_dirty: Option<bool>,
    /// RFC 3339, UTC.
    pub date: String,
    /// Wall time of the whole run, in seconds.
    pub duration_secs: f64,
}

impl Environment {
    pub fn detect(backend: &str, database_version: String, mode: Mode) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        };
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        Self {
            backend: backend.to_owned(),
            database_version,
            mode,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model: field(&cpuinfo, "model name"),
            memory_mib: field(&meminfo, "MemTotal")
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib / 1024),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            git_commit: git(&["rev-parse", "--short", "HEAD"]),
            git_dirty: git(&["status", "--porcelain", "--untracked-files=no"])
                .map(|s| !s.is_empty()),
            date: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            duration_secs: 0.0,
        }
    }
}

/// A complete benchmark report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub environment: Environment,
    pub params: Params,
    pub figures: Vec<Figure>,
}

impl Report {
    pub fn figure(&self, key: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.key == key)
    }

    /// The figures as an aligned text table, under a line naming the environment.
    pub fn table(&self) -> String {
        let e = &self.environment;
        let mut out = format!(
            "wadesk bench — {} ({}), {} mode, {} build, {} CPUs{}, commit {}{}, {}\n\n",
            e.backend,
            e.database_version,
            e.mode.as_str(),
            e.build,
            e.cpus,
            e.cpu_model
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            e.git_commit.as_deref().unwrap_or("unknown"),
            if e.git_dirty == Some(true) {
                "+changes"
            } else {
                ""
            },
            e.date,
        );
        let rows: Vec<[String; 5]> = self
            .figures
            .iter()
            .map(|f| {
                let reference = match f.reference {
                    None => String::new(),
                    Some(Reference::Baseline(b)) => format!("baseline {}", number(b, f.unit)),
                    Some(Reference::AtLeast(t)) => format!("target ≥ {}", number(t, f.unit)),
                    Some(Reference::AtMost(t)) => format!("target ≤ {}", number(t, f.unit)),
                };
                let ratio = f.ratio.map(|r| format!("{r:.2}×")).unwrap_or_default();
                let met = match f.met {
                    Some(true) => "met",
                    Some(false) => "MISSED",
                    None => "",
                };
                [
                    f.label.clone(),
                    number(f.value, f.unit),
                    reference,
                    ratio,
                    met.to_owned(),
                ]
            })
            .collect();
        let header = ["figure", "measured", "baseline or target", "ratio", ""].map(String::from);
        let width = |i: usize| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let w = [width(0), width(1), width(2), width(3)];
        for row in [&header].into_iter().chain(&rows) {
            let pad = |s: &str, n: usize| " ".repeat(n.saturating_sub(s.chars().count()));
            let _ = writeln!(
                out,
                "{}{}  {}{}  {}{}  {}{}  {}",
                row[0],
                pad(&row[0], w[0]),
                pad(&row[1], w[1]),
                row[1],
                row[2],
                pad(&row[2], w[2]),
                pad(&row[3], w[3]),
                row[3],
                row[4]
            );
        }
        let _ = write!(out, "\nfinished in {:.0} s", e.duration_secs);
        out
    }

    /// Writes the report as pretty JSON, creating the parent folders.
    pub fn write_json(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// A value with its unit, digits grouped: `12,345 /s`, `3.42 ms`, `28.1 MiB`.
pub fn number(v: f64, unit: &str) -> String {
    let decimals = match v.abs() {
        x if x >= 1000.0 || x.fract() == 0.0 => 0,
        x if x >= 100.0 => 1,
        x if x >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{v:.decimals$}");
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_owned(), format!(".{f}")),
        None => (text.clone(), String::new()),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d.to_owned()),
        None => ("", int),
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if unit.is_empty() {
        format!("{sign}{grouped}{frac}")
    } else {
        format!("{sign}{grouped}{frac} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_digits_and_keep_a_few_significant_ones() {
        assert_eq!(number(12_345.6, "/s"), "12,346 /s");
        assert_eq!(number(3.4219, "ms"), "3.42 ms");
        assert_eq!(number(0.41234, "s"), "0.412 s");
        assert_eq!(number(1_000_000.0, ""), "1,000,000");
        assert_eq!(number(-1234.0, "%"), "-1,234 %");
        assert_eq!(number(80.0, "/s"), "80 /s");
        let f = Figure::new("k", "k", 8.0, "ms").against(Reference::AtMost(5.0));
        assert_eq!((f.met, f.ratio), (Some(false), Some(1.6)));
    }
}
