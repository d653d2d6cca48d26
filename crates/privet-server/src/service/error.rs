//! What a service can answer instead of a result: typed, so pages can tell which field was
//! wrong and the HTTP edge maps each case to its status in one place (`crate::error`). No
//! variant holds a free-text message; ids and names in variants are opaque ids or manifest
//! keys, never personal values.

use privet_policy::{
    BlockError, DecodeError, Denied, PasswordProblem, ProfileProblem, Rejection, SubjectDenied,
};
use std::fmt;

/// A service's failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Nothing by that name (or not visible to the caller).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The operator's role or key does not allow it.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A member may not act on that subject.
    #[error(transparent)]
    SubjectDenied(#[from] SubjectDenied),
    /// Not allowed, for another reason.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Well-formed but invalid input.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Conflicts with the current state.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// Sign-in failed; the same whatever the reason.
    #[error("the e-mail, password or two-step code is not right")]
    SignInFailed,
    /// Too many attempts; wait this many seconds.
    #[error("too many attempts; retry in {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The store failed (its `NotFound` and `Conflict` are answered as such).
    #[error(transparent)]
    Store(#[from] privet_store::Error),
    /// Sealing or opening failed.
    #[error(transparent)]
    Crypto(#[from] privet_crypto::Error),
    /// A record block could not be written or read.
    #[error(transparent)]
    Block(#[from] BlockError),
    /// Stored data does not decode.
    #[error("stored {0} does not decode")]
    Corrupt(&'static str),
    /// The server is shutting down, or a background task was cancelled.
    #[error("the service is shutting down")]
    Unavailable,
    /// The MQTT broker did not take a device's credentials (nothing was changed).
    #[error(transparent)]
    Broker(#[from] crate::mqtt::MqttError),
}

/// Result with [`ServiceError`].
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// Whether this says "not found" (of the store, or of a service).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            ServiceError::NotFound(_) | ServiceError::Store(privet_store::Error::NotFound { .. })
        )
    }

    /// Whether this is a conflict with existing state.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ServiceError::Conflict(_) | ServiceError::Store(privet_store::Error::Conflict { .. })
        )
    }
}

/// Maps a store `Conflict` to the service's own conflict `c`, other errors as they are.
pub fn conflict_as(c: Conflict) -> impl FnOnce(privet_store::Error) -> ServiceError {
    move |e| {
        if e.is_conflict() { c.into() } else { e.into() }
    }
}

/// Maps a store `NotFound` to the service's own `m`, other errors as they are.
pub fn missing_as(m: Missing) -> impl FnOnce(privet_store::Error) -> ServiceError {
    move |e| {
        if e.is_not_found() { m.into() } else { e.into() }
    }
}

impl From<ProfileProblem> for ServiceError {
    fn from(p: ProfileProblem) -> Self {
        ServiceError::Invalid(Invalid::Profile(p))
    }
}

impl From<PasswordProblem> for ServiceError {
    fn from(p: PasswordProblem) -> Self {
        ServiceError::Invalid(Invalid::Password(p))
    }
}

impl From<Missing> for ServiceError {
    fn from(m: Missing) -> Self {
        ServiceError::NotFound(m)
    }
}

/// What was not found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    /// A member or household.
    Subject,
    /// A household.
    Household,
    /// A member (of the caller's household).
    Member,
    /// A child member of the caller's household.
    ChildMember,
    /// A device.
    Device,
    /// A device for a claim code.
    ClaimCode,
    /// An invitation.
    Invitation,
    /// A purpose no served product declares.
    Purpose(String),
    /// A product.
    Product,
    /// A published version of a product's manifest.
    ManifestVersion,
    /// A rights request.
    Request,
    /// A session.
    Session,
    /// An operator API key.
    ApiKey,
    /// A webhook endpoint.
    Webhook,
    /// A webhook delivery.
    WebhookDelivery,
    /// A stored record (a recording or picture asked for by when it was taken).
    Record,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Subject => f.write_str("subject"),
            Missing::Household => f.write_str("household"),
            Missing::Member => f.write_str("member"),
            Missing::ChildMember => f.write_str("child member"),
            Missing::Device => f.write_str("device"),
            Missing::ClaimCode => {
                f.write_str("device for that claim code (it may be wrong or already used)")
            }
            Missing::Invitation => f.write_str("invitation (it may be wrong, used or expired)"),
            Missing::Purpose(p) => write!(f, "purpose `{p}`"),
            Missing::Product => f.write_str("product"),
            Missing::ManifestVersion => f.write_str("manifest version"),
            Missing::Request => f.write_str("request"),
            Missing::Session => f.write_str("session"),
            Missing::ApiKey => f.write_str("API key"),
            Missing::Webhook => f.write_str("webhook"),
            Missing::WebhookDelivery => f.write_str("webhook delivery"),
            Missing::Record => f.write_str("record"),
        }
    }
}

/// Not allowed, for a reason other than the role table or subject access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    /// Only the household's owner may do this.
    #[error("only the household's owner may do this")]
    OwnerOnly,
    /// A staff account has not turned on two-step verification yet.
    #[error("staff accounts must turn on two-step verification first (POST /v1/auth/totp)")]
    StaffNeedTwoStep,
    /// Staff may not turn two-step verification off.
    #[error("staff accounts must keep two-step verification on")]
    StaffKeepTwoStep,
    /// A change arrived from another site.
    #[error("cross-site requests may not change anything")]
    CrossSite,
    /// A form's CSRF token is wrong or stale.
    #[error("the form expired or came from another site; reload the page and try again")]
    StaleForm,
    /// A device acting for another device.
    #[error("a device may only act for itself")]
    OtherDevice,
    /// A household page asked by a staff account.
    #[error("this page is for household members; staff accounts use the console")]
    NotAMember,
    /// A console page asked by a household account.
    #[error("the operator console is only for the operator's staff accounts")]
    NotStaff,
}

/// Invalid input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// A name or e-mail address.
    #[error(transparent)]
    Profile(ProfileProblem),
    /// A password the policy refuses.
    #[error(transparent)]
    Password(PasswordProblem),
    /// An ingest body that does not decode.
    #[error(transparent)]
    Batch(DecodeError),
    /// A batch the manifest rejects.
    #[error(transparent)]
    Rejected(Rejection),
    /// A product this server does not serve.
    #[error("unknown product `{0}`")]
    UnknownProduct(String),
    /// A device's product is no longer served.
    #[error("product `{0}` is not loaded on this server")]
    ProductNotServed(String),
    /// No served product (or not the one named) declares the purpose.
    #[error("no product{} declares the purpose `{purpose}`", product.as_ref().map(|p| format!(" `{p}`")).unwrap_or_default())]
    PurposeNotDeclared {
        /// The purpose key.
        purpose: String,
        /// The product named, if any.
        product: Option<String>,
    },
    /// Consent was given or withdrawn for a purpose that does not rest on consent.
    #[error(
        "the purpose `{0}` does not rely on consent, so there is nothing to grant or withdraw; to stop it, object or restrict processing"
    )]
    NotConsentBased(String),
    /// None of the purposes named can be objected to.
    #[error(
        "none of those purposes can be objected to: only legitimate-interests and public-task purposes can"
    )]
    NotObjectable,
    /// A device's member is not of its household.
    #[error("`member` must be a member of `household`")]
    MemberNotInHousehold,
    /// A rights request received in the future.
    #[error("`received_at` is in the future")]
    ReceivedInFuture,
    /// An extension without a usable reason.
    #[error(
        "give the reason for the extension (at most 500 characters); you must tell the person within the first month"
    )]
    ExtensionReason,
    /// A rectification that changes nothing.
    #[error("give `name` and/or `email` to correct")]
    NothingToCorrect,
    /// An erasure from the console not confirmed.
    #[error("tick the box to confirm the erasure: it cannot be undone")]
    ErasureNotConfirmed,
    /// An export format other than json or csv.
    #[error("`format` must be json or csv")]
    ExportFormat,
    /// An analyst key without purposes.
    #[error("an analyst key must hold at least one purpose")]
    AnalystWithoutPurpose,
    /// A purpose key that is not one.
    #[error("`{0}` is not a purpose key (lowercase letters, digits, `_`, `-`)")]
    PurposeKey(String),
    /// A release for a product without a release key.
    #[error("product `{0}` declares no update_public_key, so no release can be verified")]
    NoUpdateKey(String),
    /// A release whose signature does not verify.
    #[error(
        "the release does not verify against the product's update_public_key (wrong key, altered, or expired)"
    )]
    ReleaseDoesNotVerify,
    /// A firmware version that is not one.
    #[error("`firmware` must be a version of at most 64 characters")]
    Firmware,
    /// The current password given for a change is wrong.
    #[error("the current password is not right")]
    WrongCurrentPassword,
    /// A change that needs the password again was asked without it.
    #[error("enter your password (`password`) to confirm this change")]
    PasswordNeeded,
    /// A two-step code that does not verify at enrolment.
    #[error("that code is not right; check the time on your phone and try the newest code")]
    WrongTotpCode,
    /// A two-step code that does not verify, or was used.
    #[error("that code is not right, or was already used; wait for the next one")]
    StaleTotpCode,
    /// A read with `limit=0`.
    #[error("`limit` must be at least 1")]
    ZeroLimit,
    /// A read with a `limit` over the most one answer holds.
    #[error("`limit` is at most {0}")]
    LimitTooLarge(usize),
    /// A key's role not chosen (console).
    #[error("choose the key's role")]
    ChooseRole,
    /// A key's label missing or too long (console).
    #[error("give the key a label of at most {0} characters saying what it is for")]
    KeyLabel(usize),
    /// A request's type not chosen (console).
    #[error("choose the type of request")]
    ChooseRequestType,
    /// A request's subject not given (console).
    #[error("enter the id of the member or household the request is about")]
    RequestSubject,
    /// A date received that is not a date (console).
    #[error("enter the date received as YYYY-MM-DD")]
    ReceivedDate,
    /// A date received after today (console).
    #[error("the date received cannot be in the future")]
    ReceivedDateInFuture,
    /// A date received beyond what can be represented (console).
    #[error("the date received is out of range")]
    ReceivedOutOfRange,
    /// An audit page start that is neither a date nor a time (console).
    #[error("`since` must be a date (YYYY-MM-DD) or an RFC 3339 time")]
    Since,
    /// A file offered as a receipt that this instance did not sign.
    #[error("that is not an erasure receipt signed by this service")]
    NotAReceipt,
    /// A request status filter that is not one.
    #[error("`status` must be open, overdue, awaiting_identity, awaiting_clarification or done")]
    RequestStatus,
    /// A visitor's time that is not a date and time (console).
    #[error("enter the visitor's times as a date and time (UK time)")]
    VisitorTime,
    /// A pause reason that is not one.
    #[error("`reason` must be identity or clarification")]
    PauseReason,
    /// A request naming both, or neither, a subject and a visitor.
    #[error("name either `subject` (a member or household) or `visitor` (device and time range)")]
    SubjectOrVisitor,
    /// A visitor's request of a kind that cannot be answered from a device's records.
    #[error("a visitor's request can be for access or erasure of what a device recorded")]
    VisitorKind,
    /// A visitor's time range the wrong way round, or too long.
    #[error(
        "the visitor's time range must run forwards (`from` before `until`) and span at most {0} days"
    )]
    VisitorRange(u32),
    /// A visitor's device whose product records nobody but its users.
    #[error(
        "product `{0}` declares no stream that records people other than its users (`data_subjects`)"
    )]
    NoVisitorStreams(String),
    /// A manifest offered for publishing that is not TOML.
    #[error("the manifest is not valid TOML (line {line}, column {column}): {message}")]
    ManifestSyntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A manifest offered for publishing whose `product.version` cannot name a version.
    #[error(
        "`product.version` must be 1 to {0} characters, with no control characters, no spaces at either end, and no `,` or `@` (consent records name versions as `product@version`, comma separated)"
    )]
    ManifestVersion(usize),
    /// A webhook URL that is not an `http` or `https` URL with a host and no credentials.
    #[error(
        "`url` must be an http:// or https:// URL with a host and without a user name or password, at most 2048 characters"
    )]
    WebhookUrl,
    /// A webhook event name that is not one.
    #[error(
        "`{0}` is not an event a webhook can subscribe to; use request.created, request.overdue, request.completed, erasure.completed, consent.changed or device.reset"
    )]
    WebhookEvent(String),
    /// A recipient mapping naming no recipient of a served product.
    #[error("product `{product}` declares no recipient `{recipient}` (`[recipients.{recipient}]`)")]
    WebhookRecipient {
        /// The product named.
        product: String,
        /// The recipient key named.
        recipient: String,
    },
    /// A webhook with no events and no recipients.
    #[error("give at least one event in `events`, or a recipient in `recipients`")]
    WebhookNothing,
    /// A manifest offered for publishing that has lint errors.
    #[error("{0}")]
    Manifest(crate::service::publish::ManifestErrors),
}

/// Conflicts with the current state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// An account with this e-mail exists.
    #[error("an account with this e-mail already exists; sign in instead")]
    EmailTaken,
    /// Two-step verification is already on.
    #[error("two-step verification is already on; turn it off first")]
    TwoStepOn,
    /// Two-step verification is not on.
    #[error("two-step verification is not on")]
    TwoStepOff,
    /// Two-step verification was never set up.
    #[error("two-step verification is not set up")]
    TwoStepNotSetUp,
    /// The request is already done.
    #[error("the request is already done")]
    RequestDone,
    /// Someone is completing the request right now (perhaps on another instance).
    #[error("the request is being completed by someone else; look at it again shortly")]
    RequestInProgress,
    /// The request was already extended.
    #[error("a request can be extended only once")]
    ExtendedOnce,
    /// The request's clock is already stopped.
    #[error("the request is already paused; resume it first")]
    RequestPaused,
    /// The request is already overdue: pausing would hide that.
    #[error("the request is already overdue; answer it, or tell the person why it is late")]
    PauseOverdue,
    /// The request's clock is running, so there is nothing to resume.
    #[error("the request is not paused")]
    RequestNotPaused,
    /// A request waiting for identity or a clarification cannot be completed yet.
    #[error("the request is paused; resume it once the person has answered, then complete it")]
    CompletePaused,
    /// A visitor's records kept changing (purges) while they were being deleted.
    #[error("the records changed while they were being deleted; complete the request again")]
    VisitorRecordsBusy,
    /// The visitor's device belongs to no household now (it was reset).
    #[error("the device belongs to no household, so nothing it recorded is held")]
    DeviceWithoutHousehold,
    /// A release version exists.
    #[error("{product} {version} was already released; a version is never replaced")]
    Released {
        /// Product id.
        product: String,
        /// Version.
        version: String,
    },
    /// The household changed again (on another instance) while its batch was admitted a
    /// second time; nothing was stored, and sending it again is safe.
    #[error(
        "the household's settings changed while this batch was in flight; nothing was stored, send it again"
    )]
    HouseholdBusy,
    /// The device was reset or revoked while its batch waited; nothing was stored.
    #[error("the device was reset or revoked while this batch was in flight; nothing was stored")]
    DeviceChanged,
    /// A manifest version published before with another text.
    #[error(
        "{product} version {version} is already published with other content, and a published version is never replaced: give the changed manifest a new `product.version`"
    )]
    VersionTaken {
        /// Product id.
        product: String,
        /// The manifest version.
        version: String,
    },
    /// A webhook delivery retried that is not dead (or whose endpoint was deleted).
    #[error("only a dead delivery of an endpoint that still exists can be retried")]
    DeliveryNotDead,
    /// An access request marked done before its export was sent.
    #[error("download the subject's export and send it to them first; then mark the request done")]
    ExportFirst,
}
