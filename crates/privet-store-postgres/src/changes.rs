//! Changes between instances: `announce` is a `pg_notify` on the data schema's channel
//! (`privet_changes_<schema>`, so stores on other schemas of one database never hear each
//! other), and each [`listen`] stream holds a dedicated connection, outside the pool, that
//! `LISTEN`s on it. When that connection drops the stream reconnects with a growing pause and,
//! once listening again, yields [`Change::Everything`]: what was announced meanwhile is lost.
//! Dropping the stream closes its connection.

use crate::codec::{Pg, PgFailure};
use futures::{Stream, StreamExt};
use privet_store::{Change, ChangeStream, Error, Result};
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

/// The channel of the data schema `schema` (a checked identifier, so the name is too).
pub(crate) fn channel(schema: &str) -> String {
    format!("privet_changes_{schema}")
}

/// First pause before reconnecting; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Extra time past the connect timeout before a connection attempt is given up.
const CONNECT_GRACE: Duration = Duration::from_secs(1);
/// Idle time after which the listener's connection is probed, so a connection that died
/// silently (a network failure, not a closed socket) is noticed in minutes, not hours.
pub(crate) const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// Changes buffered for a slow consumer before the listener waits for it.
const BUFFER: usize = 256;

/// The server's messages on a listening connection.
type Messages =
    Pin<Box<dyn Stream<Item = std::result::Result<AsyncMessage, tokio_postgres::Error>> + Send>>;

/// A listening connection.
struct Listener {
    /// Kept so the connection stays open; dropped with it.
    _client: Client,
    messages: Messages,
}

/// Connects and listens on `channel`; the connection is driven by polling `messages`.
async fn connect(config: &Config, channel: &str) -> Result<Listener> {
    let op = "listen for changes";
    // The client's timeout covers the TCP connect; this one a server that then says nothing.
    let limit = config.get_connect_timeout().copied().unwrap_or(MAX_BACKOFF) + CONNECT_GRACE;
    let (client, mut connection) = tokio::time::timeout(limit, config.connect(NoTls))
        .await
        .map_err(|_| Error::backend(op, PgFailure::msg("the server did not answer in time")))?
        .pg(op)?;
    let mut messages: Messages =
        futures::stream::poll_fn(move |cx| connection.poll_message(cx)).boxed();
    let listen = format!("LISTEN {channel}");
    {
        let listening = client.batch_execute(&listen);
        tokio::pin!(listening);
        // The connection only makes progress while its messages are polled.
        loop {
            tokio::select! {
                done = &mut listening => {
                    done.pg(op)?;
                    break;
                }
                message = messages.next() => match message {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e).pg(op),
                    None => return Err(Error::backend(op, PgFailure::msg("connection closed"))),
                },
            }
        }
    }
    Ok(Listener {
        _client: client,
        messages,
    })
}

/// Changes announced on `channel` from now on: listening has begun when this returns.
pub(crate) async fn listen(config: Config, channel: String) -> Result<ChangeStream> {
    let first = connect(&config, &channel).await?;
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(follow(config, channel, first, tx));
    Ok(
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
            .boxed(),
    )
}

/// Forwards notifications until the stream is dropped, reconnecting when the connection ends.
async fn follow(config: Config, channel: String, mut listener: Listener, tx: mpsc::Sender<Change>) {
    loop {
        if !forward(&channel, &mut listener, &tx).await {
            return;
        }
        drop(listener);
        let mut pause = MIN_BACKOFF;
        listener = loop {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = tx.closed() => return,
            }
            match connect(&config, &channel).await {
                Ok(l) => break l,
                Err(e) => {
                    tracing::warn!(error = %e, "change listener cannot reconnect yet");
                    pause = (pause * 2).min(MAX_BACKOFF);
                }
            }
        };
        // Whatever was announced while no one listened is lost: every cache must go.
        if tx.send(Change::Everything).await.is_err() {
            return;
        }
    }
}

/// Sends the changes `listener` hears; `false` once the consumer is gone, `true` when the
/// connection ended.
async fn forward(channel: &str, listener: &mut Listener, tx: &mpsc::Sender<Change>) -> bool {
    loop {
        let message = tokio::select! {
            m = listener.messages.next() => m,
            () = tx.closed() => return false,
        };
        match message {
            Some(Ok(AsyncMessage::Notification(n))) if n.channel() == channel => {
                match Change::decode(n.payload()) {
                    Some(change) => {
                        if tx.send(change).await.is_err() {
                            return false;
                        }
                    }
                    // Not ours to understand (a newer instance's): drop everything to be safe.
                    None => {
                        if tx.send(Change::Everything).await.is_err() {
                            return false;
                        }
                    }
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::warn!(error = %PgFailure::of(&e), "change listener lost its connection");
                return true;
            }
            None => {
                tracing::warn!("change listener lost its connection");
                return true;
            }
        }
    }
}

/// Announces `change` to every listener on `channel`, this instance's included.
pub(crate) async fn announce(
    c: &impl deadpool_postgres::GenericClient,
    channel: &str,
    change: &Change,
) -> Result<()> {
    crate::pool::execute(
        c,
        "SELECT pg_notify($1, $2)",
        &[&channel, &change.encode()],
        "announce change",
    )
    .await?;
    Ok(())
}
