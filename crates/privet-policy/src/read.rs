//! Purpose-bound reads: a [`ReadGrant`] is the capability to read a product's data for one
//! purpose, and it projects stored fields down to those declared for that purpose.

use privet_manifest::{Field, Manifest, Purpose, PurposeId, Stream};
use serde_json::{Map, Value};
use std::fmt;

/// The capability to read one product's data for one declared purpose.
///
/// Obtained only through [`ReadGrant::new`], which fails for a purpose the manifest does not
/// declare. Whether the caller may use the purpose (its API key) and which subjects consented
/// are the server's checks; this grant decides which fields are visible.
#[derive(Clone, Copy)]
pub struct ReadGrant<'m> {
    manifest: &'m Manifest,
    purpose: &'m Purpose,
}

impl fmt::Debug for ReadGrant<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadGrant")
            .field("product", &self.manifest.product.id.as_str())
            .field("purpose", &self.purpose.id.as_str())
            .finish()
    }
}

impl<'m> ReadGrant<'m> {
    /// A grant to read for `purpose`; `None` when the product declares no such purpose.
    pub fn new(manifest: &'m Manifest, purpose: &PurposeId) -> Option<Self> {
        let purpose = manifest.purpose(purpose.as_str())?;
        Some(ReadGrant { manifest, purpose })
    }

    /// The manifest the grant reads under.
    pub fn manifest(&self) -> &'m Manifest {
        self.manifest
    }

    /// The purpose the grant reads for.
    pub fn purpose(&self) -> &'m Purpose {
        self.purpose
    }

    /// Whether the purpose needs consent, so only subjects who gave it may be read.
    pub fn needs_consent(&self) -> bool {
        self.purpose.needs_consent()
    }

    /// Whether `field` is declared for the grant's purpose.
    pub fn covers(&self, field: &Field) -> bool {
        let id = self.purpose.id.as_str();
        field.purposes.iter().any(|p| p.as_str() == id)
    }

    /// The streams with at least one field declared for the purpose, in manifest order.
    pub fn streams(&self) -> impl Iterator<Item = &'m Stream> + use<'m> {
        let grant = *self;
        self.manifest
            .streams
            .iter()
            .filter(move |s| s.fields.iter().any(|f| grant.covers(f)))
    }

    /// The fields of `stream` declared for the purpose, in manifest order (none for an unknown
    /// stream).
    pub fn fields(&self, stream: &str) -> impl Iterator<Item = &'m Field> + use<'m> {
        let grant = *self;
        self.manifest
            .stream(stream)
            .into_iter()
            .flat_map(|s| s.fields.iter())
            .filter(move |f| grant.covers(f))
    }

    /// The stored `fields` of a record of `stream`, keeping only those declared for the
    /// purpose; `None` when none remain (or the stream is unknown), so the record is not
    /// returned at all.
    pub fn project(&self, stream: &str, fields: &Map<String, Value>) -> Option<Map<String, Value>> {
        let decl = self.manifest.stream(stream)?;
        let projected: Map<String, Value> = fields
            .iter()
            .filter(|(name, _)| decl.field(name).is_some_and(|f| self.covers(f)))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        (!projected.is_empty()).then_some(projected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MANIFEST: &str = include_str!("../tests/fixtures/thermostat.toml");

    fn manifest() -> Manifest {
        privet_manifest::parse(MANIFEST).unwrap().manifest
    }

    #[test]
    fn grants_exist_only_for_declared_purposes() {
        let m = manifest();
        assert!(ReadGrant::new(&m, &PurposeId::new("marketing")).is_none());
        let g = ReadGrant::new(&m, &PurposeId::new("energy_report")).unwrap();
        assert!(g.needs_consent());
        assert_eq!(g.purpose().id.as_str(), "energy_report");
        assert!(
            !ReadGrant::new(&m, &PurposeId::new("heating_control"))
                .unwrap()
                .needs_consent()
        );
    }

    #[test]
    fn streams_and_fields_are_those_declared_for_the_purpose() {
        let m = manifest();
        let heat = ReadGrant::new(&m, &PurposeId::new("heating_control")).unwrap();
        let names: Vec<_> = heat.streams().map(|s| s.id.as_str()).collect();
        assert_eq!(names, ["climate"]);
        let fields: Vec<_> = heat.fields("climate").map(|f| f.name.as_str()).collect();
        assert_eq!(fields, ["temperature_c", "setpoint_c"]);
        assert_eq!(heat.fields("nope").count(), 0);
        let report = ReadGrant::new(&m, &PurposeId::new("energy_report")).unwrap();
        assert_eq!(report.streams().count(), 2);
    }

    #[test]
    fn projection_keeps_only_the_purposes_fields() {
        let m = manifest();
        let report = ReadGrant::new(&m, &PurposeId::new("energy_report")).unwrap();
        let stored = json!({"temperature_c": 21.5, "setpoint_c": 20.0, "stray": 1});
        let stored = stored.as_object().unwrap();
        assert_eq!(
            report.project("climate", stored),
            json!({"temperature_c": 21.5}).as_object().cloned()
        );
        let only_setpoint = json!({"setpoint_c": 20.0});
        assert_eq!(
            report.project("climate", only_setpoint.as_object().unwrap()),
            None
        );
        assert_eq!(report.project("unknown", stored), None);
    }
}
