//! Rights requests that arrive by e-mail or phone: logged with their deadline, extended once,
//! completed by running the same code as self-service — one completion for the API and the
//! console alike.

use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::erasure::{self, Receipt};
use crate::service::error::{Conflict, Invalid, ServiceResult, conflict_as};
use crate::service::export::{self, Download, Format};
use crate::service::subjects::{self, Correction};
use crate::service::{objections, visitors};
use crate::state::AppState;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use privet_policy::{PauseReason, VisitorScope, due_date, extended_due_date, paused_days, uk_date};
use privet_store::{DeviceId, RequestKind, RequestSource, RightsRequest, SubjectId};

/// Where a request stands: `privet_policy`'s rule, named for the API.
pub use privet_policy::RequestStatus as Status;

/// Parses a status filter.
pub fn parse_status(s: &str) -> ServiceResult<Status> {
    Status::parse(s).ok_or_else(|| Invalid::RequestStatus.into())
}

/// The deadline in force and the status on `today` (a UK date).
pub fn status(r: &RightsRequest, today: Date) -> (Date, Status) {
    r.clock().status_on(today)
}

/// The date a complaint must be acknowledged by; `None` for other kinds.
pub fn acknowledge_by(r: &RightsRequest) -> Option<Date> {
    (r.kind == RequestKind::Complaint)
        .then(|| privet_policy::acknowledge_by(uk_date(r.received_at)))
}

/// The longest time range a visitor's request may cover: a visitor names a visit, not a
/// season, and the range bounds what one request scans and rewrites.
pub const VISITOR_MAX_DAYS: u32 = 31;

/// What a new request is about.
#[derive(Clone, Debug)]
pub enum About {
    /// A member or household.
    Subject(SubjectId),
    /// A person without an account, found by what one device recorded in a time range.
    Visitor(VisitorScope),
}

/// Logs a request received at `received_at` (now when absent) about an existing subject or a
/// visitor; audited as `actor`'s. The deadline counts from the UK date of receipt.
pub async fn create(
    state: &AppState,
    kind: RequestKind,
    about: About,
    received_at: Option<Timestamp>,
    actor: &str,
) -> ServiceResult<RightsRequest> {
    let (subject, visitor) = match about {
        About::Subject(id) => (id, None),
        About::Visitor(scope) => (visitor_household(state, kind, &scope).await?, Some(scope)),
    };
    let s = state.store().subject(&subject).await?;
    let now = state.clock().now();
    let received_at = received_at.unwrap_or(now);
    if received_at > now {
        return Err(Invalid::ReceivedInFuture.into());
    }
    let r = RightsRequest {
        id: new_id("rq"),
        kind,
        subject: subject.clone(),
        received_at,
        due: due_date(uk_date(received_at)),
        extended_due: None,
        extension_reason: None,
        done: false,
        completed_at: None,
        created_by: actor.to_owned(),
        created_at: now,
        source: RequestSource::Staff,
        pause: None,
        paused_days: 0,
        visitor,
    };
    state.store().create_request(r.clone()).await?;
    audit::record(
        state,
        Event::new(
            actor,
            "request.create",
            serde_json::json!({
                "request": r.id,
                "type": r.kind.as_str(),
                "due": r.due.to_string(),
                "visitor": r.visitor.is_some(),
            }),
        )
        .subjects(vec![s.pseudonym]),
    )
    .await?;
    crate::service::webhooks::request_created(state, &r).await;
    Ok(r)
}

/// The household whose device recorded a visitor, once the request is known answerable: an
/// access or erasure, over a forward range of at most [`VISITOR_MAX_DAYS`], from a device
/// whose product declares streams that record other people.
async fn visitor_household(
    state: &AppState,
    kind: RequestKind,
    scope: &VisitorScope,
) -> ServiceResult<SubjectId> {
    if !matches!(kind, RequestKind::Access | RequestKind::Erasure) {
        return Err(Invalid::VisitorKind.into());
    }
    let longest = SignedDuration::from_hours(24 * i64::from(VISITOR_MAX_DAYS));
    if !scope.is_ordered() || scope.until.duration_since(scope.from) > longest {
        return Err(Invalid::VisitorRange(VISITOR_MAX_DAYS).into());
    }
    let device = state
        .store()
        .device(&DeviceId::new(scope.device.clone()))
        .await?;
    let manifest = state
        .products()
        .get(&device.product)
        .cloned()
        .ok_or_else(|| Invalid::ProductNotServed(device.product.clone()))?;
    if privet_policy::visitor_streams(&manifest).is_empty() {
        return Err(Invalid::NoVisitorStreams(device.product.clone()).into());
    }
    device
        .household
        .ok_or_else(|| Conflict::DeviceWithoutHousehold.into())
}

/// Records a self-service export or erasure when `cap` is a member acting for themselves;
/// a failure to record is logged, never undoes what was done.
pub async fn note_self_service(
    state: &AppState,
    cap: &crate::access::SubjectCap,
    kind: RequestKind,
) {
    if !cap.is_self_service() {
        return;
    }
    if let Err(e) = record_self_service(state, kind, &cap.subject.id, &cap.actor).await {
        tracing::warn!(error = %e, kind = kind.as_str(), "could not record a self-service request in the register");
    }
}

/// Records what a person did for themselves — exported or erased their own data — in the
/// register, as a request received and completed now, so the register shows every exercise
/// of a right, not only those staff handled.
pub async fn record_self_service(
    state: &AppState,
    kind: RequestKind,
    subject: &SubjectId,
    actor: &str,
) -> ServiceResult<RightsRequest> {
    let now = state.clock().now();
    let r = RightsRequest {
        id: new_id("rq"),
        kind,
        subject: subject.clone(),
        received_at: now,
        due: due_date(uk_date(now)),
        extended_due: None,
        extension_reason: None,
        done: true,
        completed_at: Some(now),
        created_by: actor.to_owned(),
        created_at: now,
        source: RequestSource::SelfService,
        pause: None,
        paused_days: 0,
        visitor: None,
    };
    state.store().create_request(r.clone()).await?;
    // No audit entry of its own: the export or erasure it records is audited already.
    Ok(r)
}

/// Stops a request's clock while the controller waits for proof of identity or for a
/// clarification; audited.
pub async fn pause(
    state: &AppState,
    id: &str,
    reason: &str,
    actor: &str,
) -> ServiceResult<RightsRequest> {
    let reason = PauseReason::parse(reason).ok_or(Invalid::PauseReason)?;
    // Queued behind a completion running on this instance; the store's conditional write
    // refuses one running on another (its claim holds the request).
    let lock = state.request_lock(id);
    let _once = lock.write().await;
    let r = open_request(state, id).await?;
    if r.pause.is_some() {
        return Err(Conflict::RequestPaused.into());
    }
    // Stopping the clock of a request already late would hide that it is: answer it instead.
    if status(&r, state.clock().today_uk()).1 == Status::Overdue {
        return Err(Conflict::PauseOverdue.into());
    }
    let r = match state
        .store()
        .pause_request(id, reason, state.clock().now())
        .await
    {
        Ok(r) => r,
        Err(e) if e.is_conflict() => {
            let now = state.store().request(id).await?;
            return Err(if now.done {
                Conflict::RequestDone
            } else if now.pause.is_some() {
                Conflict::RequestPaused
            } else {
                Conflict::RequestInProgress
            }
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        state,
        Event::new(
            actor,
            "request.pause",
            serde_json::json!({"request": r.id, "reason": reason.as_str()}),
        ),
    )
    .await?;
    Ok(r)
}

/// Restarts a paused request's clock: its deadline moves by the whole UK days it stood still;
/// audited.
pub async fn resume(state: &AppState, id: &str, actor: &str) -> ServiceResult<RightsRequest> {
    let lock = state.request_lock(id);
    let _once = lock.write().await;
    let r = open_request(state, id).await?;
    let Some(p) = r.pause else {
        return Err(Conflict::RequestNotPaused.into());
    };
    let days = paused_days(uk_date(p.since), state.clock().today_uk());
    let r = state
        .store()
        .resume_request(id, p.since, days)
        .await
        .map_err(conflict_as(Conflict::RequestNotPaused))?;
    audit::record(
        state,
        Event::new(
            actor,
            "request.resume",
            serde_json::json!({"request": r.id, "paused_days": days}),
        ),
    )
    .await?;
    Ok(r)
}

/// Every request, optionally only those listed under `wanted`.
pub async fn list(state: &AppState, wanted: Option<Status>) -> ServiceResult<Vec<RightsRequest>> {
    let today = state.clock().today_uk();
    Ok(state
        .store()
        .requests()
        .await?
        .into_iter()
        .filter(|r| wanted.is_none_or(|w| status(r, today).1.is_listed_under(w)))
        .collect())
}

/// Extends a request once, by two further months, for a stated reason; audited.
pub async fn extend(
    state: &AppState,
    id: &str,
    reason: &str,
    actor: &str,
) -> ServiceResult<RightsRequest> {
    let r = open_request(state, id).await?;
    if r.extended_due.is_some() {
        return Err(Conflict::ExtendedOnce.into());
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Invalid::ExtensionReason.into());
    }
    let due = extended_due_date(uk_date(r.received_at));
    let r = state
        .store()
        .extend_request(id, due, reason)
        .await
        .map_err(conflict_as(Conflict::ExtendedOnce))?;
    audit::record(
        state,
        Event::new(
            actor,
            "request.extend",
            serde_json::json!({"request": r.id}),
        ),
    )
    .await?;
    Ok(r)
}

/// The open request with this id.
pub async fn open_request(state: &AppState, id: &str) -> ServiceResult<RightsRequest> {
    let r = state.store().request(id).await?;
    if r.done {
        return Err(Conflict::RequestDone.into());
    }
    Ok(r)
}

/// How the answer to an access or portability request reaches the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// In the answer to this very call (the API streams the export).
    ThisAnswer,
    /// Sent by the staff member earlier: completing needs their export of the subject since
    /// the request was received (the person's own download does not count).
    AlreadySent,
}

/// What completing a request needs, by kind.
#[derive(Default)]
pub struct Completion {
    /// Access and portability: the format of the export (portability defaults to csv).
    pub format: Option<String>,
    /// Objection: purposes objected to (default every legitimate-interests purpose).
    pub purposes: Vec<String>,
    /// Rectification: the corrections.
    pub correction: Correction,
    /// Erasure: whether the operator confirmed it cannot be undone.
    pub erasure_confirmed: bool,
}

/// Never shows the corrected values.
impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("format", &self.format)
            .field("purposes", &self.purposes)
            .field("erasure_confirmed", &self.erasure_confirmed)
            .finish_non_exhaustive()
    }
}

/// What completing a request answered with.
#[derive(Debug)]
pub enum Completed {
    /// The export, streaming (access and portability answered in this call).
    Export(Download),
    /// The signed erasure receipt.
    Receipt(Box<Receipt>),
    /// The request, done (restriction, objection, rectification, complaint, and access sent
    /// earlier).
    Done(Box<RightsRequest>),
    /// What a device recorded of a visitor, as a JSON document.
    VisitorExport(Box<visitors::VisitorExport>),
    /// The signed receipt of deleting what a device recorded of a visitor.
    VisitorReceipt(Box<visitors::VisitorReceipt>),
}

/// How long a claim on a request lets its holder run the request's action before someone
/// else may take it over (the holder died mid-way). Longer than any action takes: an erasure
/// or a purge over a subject's records, never a whole export (which streams after the claim).
const CLAIM: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// What completing a request will run, once everything it needs was checked.
enum Action {
    /// Answer with the export, in this format.
    Export(Format),
    /// Nothing to run: the export was sent earlier.
    AlreadySent,
    /// Erase the subject.
    Erase,
    /// Restrict processing.
    Restrict,
    /// Object to purposes.
    Object,
    /// Correct the profile.
    Rectify,
    /// A complaint answered: nothing to run but recording it.
    Answer,
    /// Export what a device recorded of a visitor.
    VisitorExport(VisitorScope),
    /// Delete what a device recorded of a visitor.
    VisitorErase(VisitorScope),
}

/// Completes a request by running what self-service runs, marks it done and audits it —
/// once, even if two people complete it at the same time on different instances.
///
/// The order: first everything that can refuse without changing anything (the request is
/// open, the erasure confirmed, the export sent, the format known); then the request is
/// claimed in the store, a compare-and-set only one completion wins (the others answer
/// `RequestInProgress` or `RequestDone`); only the winner runs the action, then marks the
/// request done. If the action fails, the claim is given up, so the request can be completed
/// again; if its holder dies, the claim runs out after ten minutes and someone else may.
/// Marking it done first and acting after would lose the action when the instance died in
/// between, with the request already shown as done.
pub async fn complete(
    state: &AppState,
    id: &str,
    completion: Completion,
    delivery: Delivery,
    actor: &str,
) -> ServiceResult<Completed> {
    // Held to the end: two people completing one request on this instance queue here, and
    // the second finds it done.
    let lock = state.request_lock(id);
    let _once = lock.write().await;
    let r = open_request(state, id).await?;
    if r.pause.is_some() {
        return Err(Conflict::CompletePaused.into());
    }
    let subject = match state.store().subject(&r.subject).await {
        Ok(s) => s,
        // The subject of an erasure request is gone: an earlier attempt erased it and died
        // (or failed) before recording the completion, or it was erased another way. The
        // request is done; without this it could never be completed.
        // A visitor's household gone (erased, and the visitor's records with its key):
        // nothing of them is held, so the request is done too.
        Err(e) if e.is_not_found() && (r.kind == RequestKind::Erasure || r.visitor.is_some()) => {
            if r.kind == RequestKind::Erasure && !completion.erasure_confirmed {
                return Err(Invalid::ErasureNotConfirmed.into());
            }
            return complete_already_erased(state, id, actor).await;
        }
        Err(e) => return Err(e.into()),
    };
    let action = match (r.kind, &r.visitor) {
        (RequestKind::Access, Some(scope)) => Action::VisitorExport(scope.clone()),
        (RequestKind::Erasure, Some(scope)) => {
            if !completion.erasure_confirmed {
                return Err(Invalid::ErasureNotConfirmed.into());
            }
            Action::VisitorErase(scope.clone())
        }
        (_, Some(_)) => return Err(Invalid::VisitorKind.into()),
        (RequestKind::Complaint, None) => Action::Answer,
        (RequestKind::Access | RequestKind::Portability, None) => match delivery {
            Delivery::ThisAnswer => {
                let default = (r.kind == RequestKind::Portability).then_some("csv");
                Action::Export(Format::parse(completion.format.as_deref().or(default))?)
            }
            Delivery::AlreadySent => {
                if !exported_since(state, &subject, r.received_at, actor).await? {
                    return Err(Conflict::ExportFirst.into());
                }
                Action::AlreadySent
            }
        },
        (RequestKind::Erasure, None) => {
            if !completion.erasure_confirmed {
                return Err(Invalid::ErasureNotConfirmed.into());
            }
            Action::Erase
        }
        (RequestKind::Restriction, None) => Action::Restrict,
        (RequestKind::Objection, None) => Action::Object,
        (RequestKind::Rectification, None) => Action::Rectify,
    };

    let now = state.clock().now();
    let until = now
        .checked_add(SignedDuration::try_from(CLAIM).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX);
    match state.store().claim_request(id, now, until).await {
        Ok(_) => {}
        Err(e) if e.is_conflict() => {
            let now = state.store().request(id).await?;
            return Err(if now.done {
                Conflict::RequestDone
            } else if now.pause.is_some() {
                Conflict::CompletePaused
            } else {
                Conflict::RequestInProgress
            }
            .into());
        }
        Err(e) => return Err(e.into()),
    }
    let answer = match run(state, &r, &subject, action, completion, actor).await {
        Ok(answer) => answer,
        Err(e) => {
            if let Err(released) = state.store().release_request(id, until).await {
                tracing::warn!(error = %released, "could not give up the claim on a request whose action failed; it runs out by itself");
            }
            return Err(e);
        }
    };
    let done = state
        .store()
        .complete_request(id, state.clock().now())
        .await
        .map_err(conflict_as(Conflict::RequestDone))?;
    audit::record(
        state,
        Event::new(
            actor,
            "request.complete",
            serde_json::json!({"request": id}),
        ),
    )
    .await?;
    crate::service::webhooks::request_completed(state, &done).await;
    Ok(answer.unwrap_or_else(|| Completed::Done(Box::new(done))))
}

/// Completes an erasure request whose subject is already gone: nothing to run, no receipt
/// (the erasure's own answer carried it), the completion recorded and audited once.
async fn complete_already_erased(
    state: &AppState,
    id: &str,
    actor: &str,
) -> ServiceResult<Completed> {
    let now = state.clock().now();
    let until = now
        .checked_add(SignedDuration::try_from(CLAIM).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX);
    state
        .store()
        .claim_request(id, now, until)
        .await
        .map_err(conflict_as(Conflict::RequestInProgress))?;
    let done = state
        .store()
        .complete_request(id, state.clock().now())
        .await
        .map_err(conflict_as(Conflict::RequestDone))?;
    audit::record(
        state,
        Event::new(
            actor,
            "request.complete",
            serde_json::json!({"request": id, "subject_already_erased": true}),
        ),
    )
    .await?;
    crate::service::webhooks::request_completed(state, &done).await;
    Ok(Completed::Done(Box::new(done)))
}

/// Runs a claimed request's action: what self-service runs.
async fn run(
    state: &AppState,
    request: &RightsRequest,
    subject: &privet_store::Subject,
    action: Action,
    completion: Completion,
    actor: &str,
) -> ServiceResult<Option<Completed>> {
    Ok(match action {
        Action::Export(format) => Some(Completed::Export(
            export::start(state, &subject.id, format, actor, true).await?,
        )),
        Action::AlreadySent => None,
        Action::Erase => {
            let receipt = erasure::erase(state, &subject.id, actor).await?;
            Some(Completed::Receipt(Box::new(receipt)))
        }
        Action::Restrict => {
            subjects::restrict(state, subject, true, actor).await?;
            None
        }
        Action::Object => {
            objections::object(state, subject, &completion.purposes, actor).await?;
            None
        }
        Action::Rectify => {
            subjects::rectify(state, subject, completion.correction, actor).await?;
            None
        }
        Action::Answer => None,
        Action::VisitorExport(scope) => Some(Completed::VisitorExport(Box::new(
            visitors::export(state, &request.id, subject, &scope, actor).await?,
        ))),
        Action::VisitorErase(scope) => Some(Completed::VisitorReceipt(Box::new(
            visitors::erase(state, &request.id, subject, &scope, actor).await?,
        ))),
    })
}

/// Whether `actor` exported the subject's data since `since`.
async fn exported_since(
    state: &AppState,
    subject: &privet_store::Subject,
    since: Timestamp,
    actor: &str,
) -> ServiceResult<bool> {
    Ok(state
        .store()
        .audit_for(&subject.pseudonym)
        .await?
        .iter()
        .any(|e| {
            e.entry.action == "subject.export" && e.entry.at >= since && e.entry.actor == actor
        }))
}
