//! Id newtypes of what Privet stores: subjects, devices, API keys. Ids are opaque strings
//! chosen by the server; they never cross a crate boundary as bare `String`s.

privet_manifest::id_type!(
    /// A data subject: a household or a member.
    SubjectId
);
privet_manifest::id_type!(
    /// A device.
    DeviceId
);
privet_manifest::id_type!(
    /// An operator API key.
    ApiKeyId
);
privet_manifest::id_type!(
    /// A webhook endpoint.
    WebhookId
);
