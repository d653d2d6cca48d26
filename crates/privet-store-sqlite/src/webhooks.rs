//! Webhook endpoints and the outbox of their deliveries. Every write runs on the one writer, so
//! a claim (one `UPDATE … RETURNING`) can never hand a delivery to two senders.

use crate::codec::{conflict_or, from_opt_ts, from_ts, limit, not_found_or, ts};
use crate::rows;
use jiff::Timestamp;
use privet_store::columns::{delivery_state, from_json_list, http_status, json_list};
use privet_store::{
    AttemptOutcome, Context, Error, NewWebhookDelivery, Result, WebhookDelivery, WebhookEndpoint,
    WebhookId,
};
use rusqlite::{Connection, Row, params};

const ENDPOINT_COLUMNS: &str = "id, url, events, recipients, secret, created_at, disabled_at";
const DELIVERY_COLUMNS: &str = "id, endpoint, event, payload, state, attempts, next_attempt_at, leased_until, last_status, last_error, created_at, delivered_at";

fn endpoint(r: &Row<'_>) -> Result<WebhookEndpoint> {
    let op = "read webhook";
    let events: String = r.get(2).op(op)?;
    let recipients: String = r.get(3).op(op)?;
    Ok(WebhookEndpoint {
        id: WebhookId::new(r.get::<_, String>(0).op(op)?),
        url: r.get(1).op(op)?,
        events: from_json_list(&events, "webhook events")?,
        recipients: from_json_list(&recipients, "webhook recipients")?,
        sealed_secret: r.get(4).op(op)?,
        created_at: from_ts(r.get(5).op(op)?)?,
        disabled_at: from_opt_ts(r.get(6).op(op)?)?,
    })
}

fn delivery(r: &Row<'_>) -> Result<WebhookDelivery> {
    let op = "read webhook delivery";
    let state: String = r.get(4).op(op)?;
    Ok(WebhookDelivery {
        id: r.get(0).op(op)?,
        endpoint: WebhookId::new(r.get::<_, String>(1).op(op)?),
        event: r.get(2).op(op)?,
        payload: r.get(3).op(op)?,
        state: delivery_state(&state)?,
        attempts: u32::try_from(r.get::<_, i64>(5).op(op)?).map_err(|_| Error::Corrupt {
            what: "delivery attempts",
        })?,
        next_attempt_at: from_ts(r.get(6).op(op)?)?,
        leased_until: from_opt_ts(r.get(7).op(op)?)?,
        last_status: http_status(r.get(8).op(op)?)?,
        last_error: r.get(9).op(op)?,
        created_at: from_ts(r.get(10).op(op)?)?,
        delivered_at: from_opt_ts(r.get(11).op(op)?)?,
    })
}

/// Registers an endpoint.
pub(crate) fn create(c: &Connection, e: &WebhookEndpoint) -> Result<()> {
    c.execute(
        &format!("INSERT INTO webhooks ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            e.id.as_str(),
            e.url,
            json_list(&e.events),
            json_list(&e.recipients),
            e.sealed_secret,
            ts(e.created_at),
            e.disabled_at.map(ts),
        ],
    )
    .map_err(|err| conflict_or(err, "webhook", e.id.as_str(), "create webhook"))?;
    Ok(())
}

/// Every endpoint, oldest first.
pub(crate) fn all(c: &Connection) -> Result<Vec<WebhookEndpoint>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhooks ORDER BY created_at, id"
        ))
        .op("list webhooks")?;
    rows::collect(&mut stmt, [], "list webhooks", endpoint)
}

/// Disables an endpoint and kills its pending deliveries, in the writer's one savepoint.
pub(crate) fn disable(c: &Connection, id: &WebhookId, at: Timestamp) -> Result<()> {
    let n = c
        .execute(
            "UPDATE webhooks SET disabled_at = ?2 WHERE id = ?1 AND disabled_at IS NULL",
            params![id.as_str(), ts(at)],
        )
        .op("delete webhook")?;
    if n == 0 {
        return Err(Error::not_found("webhook", id.as_str()));
    }
    c.execute(
        "UPDATE webhook_deliveries SET state = 'dead', leased_until = NULL,
             last_error = 'endpoint deleted'
         WHERE endpoint = ?1 AND state = 'pending'",
        params![id.as_str()],
    )
    .op("delete webhook")?;
    Ok(())
}

/// Queues deliveries; one existing id fails them all (the writer rolls the savepoint back).
pub(crate) fn enqueue(c: &Connection, deliveries: &[NewWebhookDelivery]) -> Result<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO webhook_deliveries
                 (id, endpoint, event, payload, state, attempts, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)",
        )
        .op("queue webhook delivery")?;
    for d in deliveries {
        stmt.execute(params![
            d.id,
            d.endpoint.as_str(),
            d.event,
            d.payload,
            ts(d.created_at)
        ])
        .map_err(|e| conflict_or(e, "webhook delivery", &d.id, "queue webhook delivery"))?;
    }
    Ok(())
}

/// Claims the pending delivery due longest ago that nobody holds.
pub(crate) fn claim(
    c: &Connection,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<WebhookDelivery>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "UPDATE webhook_deliveries SET leased_until = ?2, attempts = attempts + 1
             WHERE id = (
                 SELECT id FROM webhook_deliveries
                 WHERE state = 'pending' AND next_attempt_at <= ?1
                   AND (leased_until IS NULL OR leased_until <= ?1)
                 ORDER BY attempts = 0 DESC, next_attempt_at, created_at, id LIMIT 1
             )
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .op("claim webhook delivery")?;
    rows::first(
        &mut stmt,
        params![ts(now), ts(lease_until)],
        "claim webhook delivery",
        delivery,
    )
}

/// Records an attempt's outcome, only under the claim that made it.
pub(crate) fn finish(
    c: &Connection,
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
    let n = c
        .execute(
            "UPDATE webhook_deliveries SET state = ?3,
                 next_attempt_at = coalesce(?4, next_attempt_at), leased_until = NULL,
                 last_status = ?5, last_error = ?6, delivered_at = ?7
             WHERE id = ?1 AND state = 'pending' AND leased_until = ?2",
            params![
                id,
                ts(lease_until),
                state,
                next,
                status.map(i64::from),
                error,
                delivered
            ],
        )
        .op(op)?;
    let d = get(c, id)?;
    if n == 0 {
        return Err(Error::conflict("webhook delivery", id));
    }
    Ok(d)
}

/// Makes a dead delivery of a live endpoint pending again.
pub(crate) fn retry(c: &Connection, id: &str, at: Timestamp) -> Result<WebhookDelivery> {
    let n = c
        .execute(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?2,
                 leased_until = NULL
             WHERE id = ?1 AND state = 'dead'
               AND endpoint IN (SELECT id FROM webhooks WHERE disabled_at IS NULL)",
            params![id, ts(at)],
        )
        .op("retry webhook delivery")?;
    let d = get(c, id)?;
    if n == 0 {
        return Err(Error::conflict("webhook delivery", id));
    }
    Ok(d)
}

/// One delivery.
pub(crate) fn get(c: &Connection, id: &str) -> Result<WebhookDelivery> {
    let op = "read webhook delivery";
    c.query_row(
        &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1"),
        [id],
        |r| Ok(delivery(r)),
    )
    .map_err(|e| not_found_or(e, "webhook delivery", id, op))?
}

/// Deliveries, newest first.
pub(crate) fn list(
    c: &Connection,
    endpoint: Option<&WebhookId>,
    max: usize,
) -> Result<Vec<WebhookDelivery>> {
    let op = "list webhook deliveries";
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
             WHERE ?1 IS NULL OR endpoint = ?1
             ORDER BY created_at DESC, id DESC LIMIT ?2"
        ))
        .op(op)?;
    rows::collect(
        &mut stmt,
        params![endpoint.map(WebhookId::as_str), limit(max)],
        op,
        delivery,
    )
}
