//! The process's basics under their usual names (`process_*`), read from Linux's `/proc` at
//! scrape time; elsewhere they are left out.

use super::text::{Kind, Text};

/// `/proc` counts CPU time in ticks of `USER_HZ`, which Linux fixes at 100 for user space.
const TICKS_PER_SECOND: f64 = 100.0;

pub fn render(t: &mut Text) {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    // The fields after the command's name, which is in parentheses and may hold anything.
    let fields: Vec<&str> = stat
        .as_deref()
        .and_then(|s| s.rsplit_once(')'))
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    if let (Some(user), Some(system)) = (field(14), field(15)) {
        t.family(
            "process_cpu_seconds_total",
            Kind::Counter,
            "CPU time the process used, user and system, in seconds.",
        );
        t.sample(
            "process_cpu_seconds_total",
            &[],
            (user + system) / TICKS_PER_SECOND,
        );
    }
    if let (Some(start), Some(boot)) = (field(22), boot_time()) {
        t.family(
            "process_start_time_seconds",
            Kind::Gauge,
            "When the process started, in seconds since the Unix epoch.",
        );
        t.sample(
            "process_start_time_seconds",
            &[],
            boot + start / TICKS_PER_SECOND,
        );
    }
    if let Some(kib) = status_kib("VmRSS:") {
        t.family(
            "process_resident_memory_bytes",
            Kind::Gauge,
            "Resident memory of the process, in bytes.",
        );
        t.sample("process_resident_memory_bytes", &[], kib * 1024.0);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        t.family(
            "process_open_fds",
            Kind::Gauge,
            "File descriptors the process has open.",
        );
        t.sample("process_open_fds", &[], fds.count() as f64);
    }
    if let Some(max) = max_fds() {
        t.family(
            "process_max_fds",
            Kind::Gauge,
            "Most file descriptors the process may open.",
        );
        t.sample("process_max_fds", &[], max);
    }
}

/// When the machine booted, in seconds since the epoch.
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// A `kB` line of `/proc/self/status`.
fn status_kib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn max_fds() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_basics_are_read_on_linux() {
        let mut t = Text::default();
        render(&mut t);
        let text = t.finish();
        if cfg!(target_os = "linux") {
            let scrape =
                prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
            let value = |name: &str| {
                scrape
                    .samples
                    .iter()
                    .find(|s| s.metric == name)
                    .map(|s| match s.value {
                        prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => {
                            v
                        }
                        _ => panic!("{name} is not a number"),
                    })
                    .unwrap_or_else(|| panic!("no {name} in {text}"))
            };
            assert!(value("process_resident_memory_bytes") > 1e6);
            assert!(value("process_open_fds") >= 3.0);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            let started = value("process_start_time_seconds");
            assert!(
                started <= now + 1.0 && started > now - 86_400.0,
                "{started}"
            );
            assert!(value("process_cpu_seconds_total") >= 0.0);
        }
    }
}
