//! Several `palaver serve` processes on one store (PostgreSQL): each with its own data dir and
//! port, all with the default team's key. The first one bootstraps the default team; the
//! others start after it and find the team there.

use std::sync::Arc;

use crate::helpers::{TestApp, TestAppBuilder};
use crate::stores::TestStore;

pub struct Cluster {
    /// The processes, in start order.
    pub apps: Vec<Arc<TestApp>>,
}

impl Cluster {
    /// `n` servers on `store`, each configured by `configure`.
    pub async fn spawn(
        store: TestStore,
        n: usize,
        configure: impl Fn(TestAppBuilder) -> TestAppBuilder,
    ) -> Cluster {
        assert!(
            store.is_postgres(),
            "only a shared PostgreSQL store can hold several processes"
        );
        let first = configure(TestApp::builder(store.clone())).spawn().await;
        let key = first.api_key.clone();
        let mut apps = vec![Arc::new(first)];
        for _ in 1..n {
            let builder = configure(TestApp::builder(store.clone())).api_key(&key);
            apps.push(Arc::new(builder.spawn().await));
        }
        Cluster { apps }
    }
}
