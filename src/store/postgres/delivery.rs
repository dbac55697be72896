//! [`Outbox`] on PostgreSQL.

use super::*;
use crate::store::shared_reads::on_postgres;

#[async_trait]
impl Outbox for PgStore {
    fn work_signal(&self) -> Arc<Notify> {
        self.work.clone()
    }

    fn handoff(&self) -> &Handoff {
        &self.handoff
    }

    async fn claim(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Claim> {
        let mut tx = self.pool.begin_with(commit::begin_lazy([])).await?;
        let claim = outbox::claim(&mut tx, now, lease_until, limit, &self.recent).await?;
        tx.commit().await?;
        Ok(claim)
    }

    async fn form_batch(&self, batch_id: &str, members: &[(i64, i64)]) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        let joined = outbox::form_batch(&mut tx, batch_id, members).await?;
        tx.commit().await?;
        Ok(joined)
    }

    async fn finish(&self, outcomes: Vec<Outcome>, now: Millis) -> Result<()> {
        let begin = commit::begin_lazy(outbox::settled_lanes(&outcomes));
        let mut tx = self.pool.begin_with(begin).await?;
        let health = self.healing.get();
        let lease_until = self.handoff.lease_until();
        let (moved, handed_off) =
            outbox::finish(&mut tx, outcomes, now, health, lease_until, &self.recent).await?;
        tx.commit().await?;
        self.handoff.push(handed_off);
        if moved {
            self.announce(WORK, String::new());
        }
        self.work.notify_one();
        Ok(())
    }

    async fn release_leases(&self, _now: Millis) -> Result<u64> {
        Ok(0) // other processes may hold live leases: let them expire
    }

    fn enable_healing(&self, rules: HealthRules) {
        let _ = self.healing.set(rules);
    }

    async fn start_probes(&self, now: Millis, interval: Duration) -> Result<u64> {
        let due: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM endpoints WHERE probe_at IS NOT NULL AND probe_at <= $1)",
        )
        .bind(now.0)
        .fetch_one(&self.pool)
        .await?;
        if !due {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await?;
        let n = disabling::start_probes(&mut tx, now, interval).await?;
        tx.commit().await?;
        if n > 0 {
            self.announce(WORK, String::new());
            self.work.notify_one();
        }
        Ok(n)
    }

    async fn disable_endpoint(&self, endpoint_seq: i64, reason: &str, at: Millis) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let disabled = disabling::disable(&mut tx, endpoint_seq, reason, at).await?;
        tx.commit().await?;
        Ok(disabled)
    }

    async fn enable_endpoint(&self, endpoint_seq: i64, at: Millis) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let enabled = disabling::enable(&mut tx, endpoint_seq, at).await?;
        tx.commit().await?;
        if enabled {
            self.announce(WORK, String::new());
            self.work.notify_one();
        }
        Ok(enabled)
    }

    async fn backlog(&self, now: Millis) -> Result<Backlog> {
        crate::store::backlog::on_postgres::backlog(&self.pool, now).await
    }

    async fn deliveries(
        &self,
        endpoint_seq: i64,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> Result<Vec<DeliveryRecord>> {
        let sql = format!(
            "{DELIVERY_COLUMNS} WHERE d.endpoint_seq = $1 AND d.seq < $2 AND d.state = ANY($3) ORDER BY d.seq DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(endpoint_seq)
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(rows::states(status))
            .bind(page.limit as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(rows::delivery).collect())
    }

    async fn delivery(&self, endpoint_seq: i64, id: &str) -> Result<Option<DeliveryRecord>> {
        on_postgres::delivery(&self.pool, endpoint_seq, id).await
    }
    async fn attempts(&self, delivery_seq: i64) -> Result<Vec<AttemptRecord>> {
        on_postgres::attempts(&self.pool, delivery_seq).await
    }
    async fn event_body(&self, delivery_seq: i64) -> Result<String> {
        on_postgres::event_body(&self.pool, delivery_seq).await
    }
    async fn endpoint_health(&self, endpoint_seq: i64, since: Millis) -> Result<EndpointHealth> {
        crate::store::health::on_postgres::endpoint_health(&self.pool, endpoint_seq, since).await
    }
    async fn enqueue_test(&self, endpoint: &Endpoint, body: String, now: Millis) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let id = requeue::enqueue_test(&mut tx, endpoint, body, now).await?;
        tx.commit().await?;
        self.announce(WORK, String::new());
        self.work.notify_one();
        Ok(id)
    }

    async fn redeliver(&self, delivery_seq: i64, now: Millis) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        requeue::redeliver(&mut tx, delivery_seq, now).await?;
        tx.commit().await?;
        self.announce(WORK, String::new());
        self.work.notify_one();
        Ok(())
    }

    async fn create_recovery(&self, endpoint_seq: i64, since: Millis, now: Millis) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let n = requeue::create_recovery(&mut tx, endpoint_seq, since, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn recovery_step(&self, now: Millis, batch: u32) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let more = requeue::recovery_step(&mut tx, now, batch).await?;
        tx.commit().await?;
        if more {
            self.announce(WORK, String::new());
            self.work.notify_one();
        }
        Ok(more)
    }
}
