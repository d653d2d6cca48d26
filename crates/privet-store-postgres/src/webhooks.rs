//! Webhook endpoints and the outbox of their deliveries. Senders on every instance claim with
//! one `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)`: the row is locked as it is
//! chosen and rows other claimants hold are skipped, so each delivery goes to exactly one.

use crate::codec::{Pg, col, from_opt_ts, from_ts, limit, ts, u32_of};
use crate::pool::{execute, insert, query, query_opt};
use deadpool_postgres::{GenericClient, Object};
use jiff::Timestamp;
use privet_store::columns::{delivery_state, from_json_list, http_status, json_list};
use privet_store::{
    AttemptOutcome, Error, NewWebhookDelivery, Result, WebhookDelivery, WebhookEndpoint, WebhookId,
};
use tokio_postgres::Row;

const ENDPOINT_COLUMNS: &str = "id, url, events, recipients, secret, created_at, disabled_at";
const DELIVERY_COLUMNS: &str = "id, endpoint, event, payload, state, attempts, next_attempt_at, leased_until, last_status, last_error, created_at, delivered_at";

fn endpoint(r: &Row) -> Result<WebhookEndpoint> {
    let op = "read webhook";
    let events: String = col(r, 2, op)?;
    let recipients: String = col(r, 3, op)?;
    Ok(WebhookEndpoint {
        id: WebhookId::new(col::<String>(r, 0, op)?),
        url: col(r, 1, op)?,
        events: from_json_list(&events, "webhook events")?,
        recipients: from_json_list(&recipients, "webhook recipients")?,
        sealed_secret: col(r, 4, op)?,
        created_at: from_ts(col(r, 5, op)?)?,
        disabled_at: from_opt_ts(col(r, 6, op)?)?,
    })
}

fn delivery(r: &Row) -> Result<WebhookDelivery> {
    let op = "read webhook delivery";
    let state: String = col(r, 4, op)?;
    Ok(WebhookDelivery {
        id: col(r, 0, op)?,
        endpoint: WebhookId::new(col::<String>(r, 1, op)?),
        event: col(r, 2, op)?,
        payload: col(r, 3, op)?,
        state: delivery_state(&state)?,
        attempts: u32_of(col(r, 5, op)?, "delivery attempts")?,
        next_attempt_at: from_ts(col(r, 6, op)?)?,
        leased_until: from_opt_ts(col(r, 7, op)?)?,
        last_status: http_status(col(r, 8, op)?)?,
        last_error: col(r, 9, op)?,
        created_at: from_ts(col(r, 10, op)?)?,
        delivered_at: from_opt_ts(col(r, 11, op)?)?,
    })
}

/// Registers an endpoint.
pub(crate) async fn create(c: &impl GenericClient, e: &WebhookEndpoint) -> Result<()> {
    insert(
        c,
        &format!("INSERT INTO webhooks ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            &e.id.as_str(),
            &e.url,
            &json_list(&e.events),
            &json_list(&e.recipients),
            &e.sealed_secret,
            &ts(e.created_at),
            &e.disabled_at.map(ts),
        ],
        ("webhook", e.id.as_str()),
        "create webhook",
    )
    .await?;
    Ok(())
}

/// Every endpoint, oldest first.
pub(crate) async fn all(c: &impl GenericClient) -> Result<Vec<WebhookEndpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhooks ORDER BY created_at, id");
    query(c, &sql, &[], "list webhooks")
        .await?
        .iter()
        .map(endpoint)
        .collect()
}

/// Disables an endpoint and kills its pending deliveries, in one transaction.
pub(crate) async fn disable(c: &mut Object, id: &WebhookId, at: Timestamp) -> Result<()> {
    let op = "delete webhook";
    let tx = c.transaction().await.pg(op)?;
    let n = execute(
        &tx,
        "UPDATE webhooks SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
        &[&id.as_str(), &ts(at)],
        op,
    )
    .await?;
    if n == 0 {
        return Err(Error::not_found("webhook", id.as_str()));
    }
    execute(
        &tx,
        "UPDATE webhook_deliveries SET state = 'dead', leased_until = NULL,
             last_error = 'endpoint deleted'
         WHERE endpoint = $1 AND state = 'pending'",
        &[&id.as_str()],
        op,
    )
    .await?;
    tx.commit().await.pg(op)
}

/// Queues deliveries in one transaction; one existing id fails them all.
pub(crate) async fn enqueue(c: &mut Object, deliveries: &[NewWebhookDelivery]) -> Result<()> {
    let op = "queue webhook delivery";
    let tx = c.transaction().await.pg(op)?;
    for d in deliveries {
        insert(
            &tx,
            "INSERT INTO webhook_deliveries
                 (id, endpoint, event, payload, state, attempts, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
            &[
                &d.id,
                &d.endpoint.as_str(),
                &d.event,
                &d.payload,
                &ts(d.created_at),
            ],
            ("webhook delivery", &d.id),
            op,
        )
        .await?;
    }
    tx.commit().await.pg(op)
}

/// Claims the pending delivery due longest ago that nobody holds.
pub(crate) async fn claim(
    c: &impl GenericClient,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<WebhookDelivery>> {
    let sql = format!(
        "UPDATE webhook_deliveries SET leased_until = $2, attempts = attempts + 1
         WHERE id = (
             SELECT id FROM webhook_deliveries
             WHERE state = 'pending' AND next_attempt_at <= $1
               AND (leased_until IS NULL OR leased_until <= $1)
             ORDER BY attempts = 0 DESC, next_attempt_at, created_at, id LIMIT 1
             FOR UPDATE SKIP LOCKED
         )
         RETURNING {DELIVERY_COLUMNS}"
    );
    query_opt(
        c,
        &sql,
        &[&ts(now), &ts(lease_until)],
        "claim webhook delivery",
    )
    .await?
    .map(|r| delivery(&r))
    .transpose()
}

/// Records an attempt's outcome, only under the claim that made it.
pub(crate) async fn finish(
    c: &impl GenericClient,
    id: &str,
    lease_until: Timestamp,
    outcome: &AttemptOutcome,
) -> Result<WebhookDelivery> {
    let op = "finish webhook delivery";
    let (state, next, status, error, delivered) = match outcome {
        AttemptOutcome::Delivered { at, status } => {
            ("delivered", None, Some(*status), None, Some(ts(*at)))
        }
        AttemptOutcome::Retry {
            next_attempt_at,
            status,
            error,
        } => (
            "pending",
            Some(ts(*next_attempt_at)),
            *status,
            Some(error.as_str()),
            None,
        ),
        AttemptOutcome::Dead { status, error } => {
            ("dead", None, *status, Some(error.as_str()), None)
        }
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET state = $3,
             next_attempt_at = coalesce($4, next_attempt_at), leased_until = NULL,
             last_status = $5, last_error = $6, delivered_at = $7
         WHERE id = $1 AND state = 'pending' AND leased_until = $2
         RETURNING {DELIVERY_COLUMNS}"
    );
    let row = query_opt(
        c,
        &sql,
        &[
            &id,
            &ts(lease_until),
            &state,
            &next,
            &status.map(i64::from),
            &error,
            &delivered,
        ],
        op,
    )
    .await?;
    match row {
        Some(r) => delivery(&r),
        None => {
            get(c, id).await?;
            Err(Error::conflict("webhook delivery", id))
        }
    }
}

/// Makes a dead delivery of a live endpoint pending again.
pub(crate) async fn retry(
    c: &impl GenericClient,
    id: &str,
    at: Timestamp,
) -> Result<WebhookDelivery> {
    let sql = format!(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2,
             leased_until = NULL
         WHERE id = $1 AND state = 'dead'
           AND endpoint IN (SELECT id FROM webhooks WHERE disabled_at IS NULL)
         RETURNING {DELIVERY_COLUMNS}"
    );
    match query_opt(c, &sql, &[&id, &ts(at)], "retry webhook delivery").await? {
        Some(r) => delivery(&r),
        None => {
            get(c, id).await?;
            Err(Error::conflict("webhook delivery", id))
        }
    }
}

/// One delivery.
pub(crate) async fn get(c: &impl GenericClient, id: &str) -> Result<WebhookDelivery> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
    match query_opt(c, &sql, &[&id], "read webhook delivery").await? {
        Some(r) => delivery(&r),
        None => Err(Error::not_found("webhook delivery", id)),
    }
}

/// Deliveries, newest first.
pub(crate) async fn list(
    c: &impl GenericClient,
    endpoint: Option<&WebhookId>,
    max: usize,
) -> Result<Vec<WebhookDelivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE $1::text IS NULL OR endpoint = $1
         ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    query(
        c,
        &sql,
        &[&endpoint.map(WebhookId::as_str), &limit(max)],
        "list webhook deliveries",
    )
    .await?
    .iter()
    .map(delivery)
    .collect()
}
