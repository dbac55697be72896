//! The servers under test: one `palaver serve` process, or several sharing one PostgreSQL
//! database (`--processes`), each on its own data dir and port.

use super::server::Server;
use std::path::{Path, PathBuf};

pub struct Servers {
    all: Vec<Server>,
}

impl Servers {
    /// Starts `n` servers on the store: the first alone (it migrates a fresh database), then the
    /// others together. The first uses `data_dir`, the others `data_dir` with `-p2`, `-p3`… added.
    pub async fn start(
        data_dir: &Path,
        database_url: Option<&str>,
        env: &[(&str, String)],
        n: usize,
    ) -> Servers {
        assert!(
            n == 1 || database_url.is_some(),
            "several processes share a PostgreSQL database only"
        );
        let first = Server::start(data_dir, database_url, env).await;
        let others = (2..=n).map(|i| {
            let dir = sibling(data_dir, i);
            async move { Server::start(&dir, database_url, env).await }
        });
        let mut all = vec![first];
        all.extend(futures::future::join_all(others).await);
        Servers { all }
    }

    /// Each server's base URL, in start order.
    pub fn bases(&self) -> Vec<String> {
        self.all.iter().map(|s| s.base.clone()).collect()
    }

    /// User + system CPU seconds so far, summed over the processes.
    pub fn cpu_seconds(&self) -> f64 {
        self.all.iter().map(Server::cpu_seconds).sum()
    }

    /// The largest process's peak resident memory in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        self.all.iter().map(Server::peak_rss_mb).fold(0.0, f64::max)
    }

    /// Stops them all (SIGTERM each, then waits).
    pub async fn stop(self) {
        futures::future::join_all(self.all.into_iter().map(Server::stop)).await;
    }
}

/// The data dir of process `i` (from 2) beside the first's.
fn sibling(first: &Path, i: usize) -> PathBuf {
    let mut name = first.file_name().unwrap_or_default().to_os_string();
    name.push(format!("-p{i}"));
    first.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn each_process_has_its_own_data_dir() {
        let first = Path::new("/tmp/x/burst-abc");
        assert_eq!(super::sibling(first, 2), Path::new("/tmp/x/burst-abc-p2"));
        assert_eq!(super::sibling(first, 3), Path::new("/tmp/x/burst-abc-p3"));
    }
}
