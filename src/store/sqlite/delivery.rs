//! [`Outbox`] on SQLite.

use super::*;
use crate::store::shared_reads::on_sqlite;

#[async_trait]
impl Outbox for SqliteStore {
    fn work_signal(&self) -> Arc<Notify> {
        self.work.clone()
    }

    fn handoff(&self) -> &Handoff {
        &self.handoff
    }

    async fn claim(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Claim> {
        let recent = self.recent.clone();
        self.lazy(move |c| outbox::claim(c, now, lease_until, limit, &recent))
            .await
    }

    async fn form_batch(&self, batch_id: &str, members: &[(i64, i64)]) -> Result<Vec<i64>> {
        let (batch_id, members) = (batch_id.to_string(), members.to_vec());
        self.one(move |c| outbox::form_batch(c, &batch_id, &members))
            .await
    }

    async fn finish(&self, outcomes: Vec<Outcome>, now: Millis) -> Result<()> {
        let handoff = self.handoff.lease_until();
        let health = self.healing.get().copied();
        let finished = self
            .lazy({
                let recent = self.recent.clone();
                move |c| outbox::finish(c, outcomes, now, handoff, &recent, health.as_ref())
            })
            .await?;
        if finished.claim_needed {
            self.work.notify_one();
        }
        self.handoff.push(finished.handed_off);
        Ok(())
    }

    async fn release_leases(&self, now: Millis) -> Result<u64> {
        self.one(move |c| outbox::release_leases(c, now)).await
    }

    fn enable_healing(&self, rules: HealthRules) {
        let _ = self.healing.set(rules);
    }

    async fn start_probes(&self, now: Millis, interval: Duration) -> Result<u64> {
        let due: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM endpoints WHERE probe_at IS NOT NULL AND probe_at <= ?)",
        )
        .bind(now.0)
        .fetch_one(&self.read)
        .await?;
        if !due {
            return Ok(0);
        }
        let n = self
            .lazy(move |c| disabling::start_probes(c, now, interval))
            .await?;
        if n > 0 {
            self.work.notify_one();
        }
        Ok(n)
    }

    async fn disable_endpoint(&self, endpoint_seq: i64, reason: &str, at: Millis) -> Result<bool> {
        let reason = reason.to_string();
        self.one(move |c| disabling::disable(c, endpoint_seq, &reason, at))
            .await
    }

    async fn enable_endpoint(&self, endpoint_seq: i64, at: Millis) -> Result<bool> {
        let enabled = self
            .one(move |c| disabling::enable(c, endpoint_seq, at))
            .await?;
        self.work.notify_one();
        Ok(enabled)
    }

    async fn backlog(&self, now: Millis) -> Result<Backlog> {
        crate::store::backlog::on_sqlite::backlog(&self.read, now).await
    }

    async fn deliveries(
        &self,
        endpoint_seq: i64,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> Result<Vec<DeliveryRecord>> {
        reads::deliveries(&self.read, endpoint_seq, status, page).await
    }

    async fn delivery(&self, endpoint_seq: i64, id: &str) -> Result<Option<DeliveryRecord>> {
        on_sqlite::delivery(&self.read, endpoint_seq, id).await
    }
    async fn attempts(&self, delivery_seq: i64) -> Result<Vec<AttemptRecord>> {
        on_sqlite::attempts(&self.read, delivery_seq).await
    }
    async fn event_body(&self, delivery_seq: i64) -> Result<String> {
        on_sqlite::event_body(&self.read, delivery_seq).await
    }
    async fn endpoint_health(&self, endpoint_seq: i64, since: Millis) -> Result<EndpointHealth> {
        crate::store::health::on_sqlite::endpoint_health(&self.read, endpoint_seq, since).await
    }
    async fn enqueue_test(&self, endpoint: &Endpoint, body: String, now: Millis) -> Result<String> {
        let endpoint = endpoint.clone();
        let id = self
            .one(move |c| requeue::enqueue_test(c, &endpoint, &body, now))
            .await?;
        self.work.notify_one();
        Ok(id)
    }

    async fn redeliver(&self, delivery_seq: i64, now: Millis) -> Result<()> {
        self.one(move |c| requeue::redeliver(c, delivery_seq, now))
            .await?;
        self.work.notify_one();
        Ok(())
    }

    async fn create_recovery(&self, endpoint_seq: i64, since: Millis, now: Millis) -> Result<u64> {
        self.one(move |c| requeue::create_recovery(c, endpoint_seq, since, now))
            .await
    }

    async fn recovery_step(&self, now: Millis, batch: u32) -> Result<bool> {
        let more = self
            .lazy(move |c| requeue::recovery_step(c, now, batch))
            .await?;
        if more {
            self.work.notify_one();
        }
        Ok(more)
    }
}
