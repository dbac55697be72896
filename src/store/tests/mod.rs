//! The stores against real databases: the fixtures, and a module per part. Each test runs
//! on a SQLite file, and on a fresh PostgreSQL database when `PALAVER_TEST_DATABASE_URL` is set.

use super::testdb::{self, TempDatabase};
use crate::domain::{EventName, Millis};
use crate::store::*;

/// Where a test's store lives; dropping it removes it.
enum Place {
    Sqlite(tempfile::TempDir),
    Postgres(TempDatabase),
}

impl Place {
    fn url(&self) -> String {
        match self {
            Place::Sqlite(dir) => dir.path().join("t.db").to_str().unwrap().to_string(),
            Place::Postgres(db) => db.url.clone(),
        }
    }
}

struct Fixture {
    store: Arc<dyn Store>,
    team: i64,
    place: Place,
}

/// Runs each test on SQLite, and on PostgreSQL if configured.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(#[tokio::test] async fn $name() { super::$name(super::fixture(false).await.unwrap()).await })*
        }
        mod postgres_store {
            $(#[tokio::test] async fn $name() {
                if let Some(f) = super::fixture(true).await { super::$name(f).await }
            })*
        }
    };
}

mod batch;
mod conv;
mod feed;
mod group;
mod lanes;
mod outbox;
mod pace;
mod purge;
mod slack;
mod slack_inbox;
mod slack_outbound;
mod widget;

async fn fixture(postgres: bool) -> Option<Fixture> {
    let place = if postgres {
        let server = testdb::server_url()?;
        Place::Postgres(
            TempDatabase::create(&server)
                .await
                .expect("create a test database"),
        )
    } else {
        Place::Sqlite(tempfile::tempdir().unwrap())
    };
    let store = open(&place.url(), 4).await.unwrap();
    let team = store
        .create_team(NewTeam {
            id: "t_1".into(),
            name: "t".into(),
            api_key_hash: "h".into(),
            site_key: "pk".into(),
            is_default: true,
            created_at: Millis(0),
        })
        .await
        .unwrap();
    Some(Fixture {
        store,
        team: team.seq,
        place,
    })
}

impl Fixture {
    async fn endpoint(&self, id: &str, events: i64) -> Endpoint {
        self.store
            .create_endpoint(Endpoint {
                seq: 0,
                id: id.into(),
                team_seq: self.team,
                kind: EndpointKind::Webhook,
                url: format!("http://example.com/{id}"),
                events,
                description: String::new(),
                enabled: true,
                secret: "whsec_AAAA".into(),
                previous_secret: None,
                previous_secret_until: None,
                batch_size: 1,
                limits: Default::default(),
                created_at: Millis(0),
                disabled: None,
            })
            .await
            .unwrap()
    }

    async fn event(&self, lane: &str, name: EventName, body: &str) -> u64 {
        let step = Step::InsertEvent {
            id: crate::domain::new_id("evt_"),
            conversation_seq: None,
            name: name.as_str(),
            bit: name.bit(),
            lane: lane.into(),
            body: body.into(),
            transcript: None,
            at: Millis(1000),
        };
        let c = Commit {
            team_seq: self.team,
            steps: vec![step],
        };
        self.store.commit(c).await.unwrap().deliveries
    }

    async fn claim_at(&self, now: i64) -> Vec<Claimed> {
        self.store
            .claim(Millis(now), Millis(now + 60_000), 100)
            .await
            .unwrap()
            .deliveries
    }
}

fn outcome(c: &Claimed, next: NextStep) -> Outcome {
    Outcome {
        claimed: c.clone(),
        attempt: AttemptRecord {
            n: c.attempt,
            at: Millis(0),
            status_code: Some(200),
            duration_ms: 1,
            error: None,
            response_body: String::new(),
        },
        next,
    }
}

const ALL: i64 = 0b111111;
