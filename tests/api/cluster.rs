//! Several `palaver serve` processes on one store (PostgreSQL): each with its own data dir and
//! port, all with the same admin key, all started at once — they race to migrate the database
//! and to create the default team, as a real deployment's processes do.

use std::sync::Arc;

use crate::fixtures::random_token;
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
        let key = format!("sk_test_{}", random_token(24));
        let starts = (0..n).map(|_| {
            configure(TestApp::builder(store.clone()))
                .api_key(&key)
                .spawn()
        });
        let apps = futures::future::join_all(starts)
            .await
            .into_iter()
            .map(Arc::new)
            .collect();
        Cluster { apps }
    }
}
