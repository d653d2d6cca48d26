//! Setting up a simulated fleet on a server: households of one to four members, each with a
//! few devices spread over the products, and a share of the consent-based purposes granted.

use super::admin_api::AdminApi;
use super::fleet::SimDevice;
use futures::{StreamExt, TryStreamExt};
use privet_manifest::{Manifest, SubjectKind};
use std::sync::Arc;

const NAMES: &[&str] = &[
    "Alex", "Sam", "Priya", "Tom", "Aisha", "Ruth", "Owen", "Mei", "Callum", "Niamh",
];

/// What fleet to set up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FleetPlan {
    /// How many devices, over all households.
    pub(crate) devices: usize,
    /// The share (0–1) of (subject, consent-based purpose) pairs granted.
    pub(crate) consent_share: f64,
    /// Seed for sizes, names and choices.
    pub(crate) seed: u64,
}

/// A device set up on the server, with what the simulator and the benchmark need to know.
pub(crate) struct Provisioned {
    /// Device id.
    pub(crate) id: String,
    /// Its household's id.
    pub(crate) household: String,
    /// What the simulator drives.
    pub(crate) sim: SimDevice,
}

/// Whether a product is worn or carried by one person (a fitness band): it has member
/// streams, no household streams, and no stream that other people may be heard or seen on.
fn is_personal(m: &Manifest) -> bool {
    let has = |k| m.streams.iter().any(|s| s.subject.value == k);
    has(SubjectKind::Member)
        && !has(SubjectKind::Household)
        && m.streams.iter().all(|s| s.data_subjects.is_empty())
}

/// One household's share of the plan.
struct HouseholdPlan {
    index: usize,
    members: Vec<(String, bool)>,
    products: Vec<Arc<Manifest>>,
    /// For each device, which member owns it if the product is personal.
    owners: Vec<usize>,
    /// (subject index: 0 the household, 1.. members; product; purpose) to grant.
    grants: Vec<(usize, String, String)>,
}

fn plan_households(manifests: &[Arc<Manifest>], plan: &FleetPlan) -> Vec<HouseholdPlan> {
    let mut rng = fastrand::Rng::with_seed(plan.seed);
    let mut out = Vec::new();
    let mut device = 0;
    while device < plan.devices {
        let n_members = rng.usize(1..=4);
        let members: Vec<(String, bool)> = (0..n_members)
            .map(|i| {
                let name = NAMES[rng.usize(..NAMES.len())].to_owned();
                // The first two are adults (one gives a child's consents); later ones may be
                // children.
                (name, i >= 2 && rng.bool())
            })
            .collect();
        let n_devices = rng.usize(1..=3).min(plan.devices - device);
        let products: Vec<Arc<Manifest>> = (device..device + n_devices)
            .map(|d| manifests[d % manifests.len()].clone())
            .collect();
        device += n_devices;
        let adults = members.iter().filter(|(_, child)| !child).count().max(1);
        let owners = products.iter().map(|_| rng.usize(..adults)).collect();
        let mut seen: Vec<&str> = Vec::new();
        let mut grants = Vec::new();
        for m in &products {
            let product = m.product.id.value.as_str();
            if seen.contains(&product) {
                continue;
            }
            seen.push(product);
            for p in m.purposes.iter().filter(|p| p.needs_consent()) {
                for subject in 0..=members.len() {
                    if rng.f64() < plan.consent_share {
                        grants.push((subject, product.to_owned(), p.id.value.as_str().to_owned()));
                    }
                }
            }
        }
        out.push(HouseholdPlan {
            index: out.len(),
            members,
            products,
            owners,
            grants,
        });
    }
    out
}

/// Creates the households, members, devices and consents of `plan`, a few households at a
/// time. Devices come back in creation order.
pub(crate) async fn provision(
    api: &AdminApi,
    manifests: &[Arc<Manifest>],
    plan: &FleetPlan,
) -> anyhow::Result<Vec<Provisioned>> {
    anyhow::ensure!(!manifests.is_empty(), "no products to simulate");
    let households = plan_households(manifests, plan);
    let done: Vec<Vec<Provisioned>> = futures::stream::iter(households)
        .map(|h| create_household(api, h))
        .buffered(8)
        .try_collect()
        .await?;
    Ok(done.into_iter().flatten().collect())
}

async fn create_household(api: &AdminApi, h: HouseholdPlan) -> anyhow::Result<Vec<Provisioned>> {
    let household = api
        .household(&format!("Simulated home {}", h.index + 1))
        .await?;
    let mut members = Vec::with_capacity(h.members.len());
    for (name, child) in &h.members {
        members.push(api.member(&household, name, *child).await?);
    }
    for (subject, product, purpose) in &h.grants {
        let id = match subject {
            0 => &household,
            i => &members[i - 1],
        };
        api.consent(id, purpose, product, true).await?;
    }
    let mut devices = Vec::with_capacity(h.products.len());
    for (manifest, owner) in h.products.into_iter().zip(h.owners) {
        let personal = is_personal(&manifest).then(|| members[owner].clone());
        let created = api
            .device(
                manifest.product.id.value.as_str(),
                &household,
                personal.as_deref(),
            )
            .await?;
        let sim_members = match personal {
            Some(m) => vec![m],
            None => members.clone(),
        };
        devices.push(Provisioned {
            id: created.id,
            household: household.clone(),
            sim: SimDevice {
                token: created.token,
                manifest,
                members: sim_members,
            },
        });
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_has_the_devices_asked_for_spread_over_products() {
        let manifests = crate::simulate::manifests::load(None).unwrap();
        let plan = FleetPlan {
            devices: 23,
            consent_share: 0.5,
            seed: 7,
        };
        let hs = plan_households(&manifests, &plan);
        let total: usize = hs.iter().map(|h| h.products.len()).sum();
        assert_eq!(total, 23);
        assert!(hs.iter().all(|h| (1..=4).contains(&h.members.len())));
        assert!(
            hs.iter().all(|h| !h.members[0].1),
            "first member is an adult"
        );
        let products: std::collections::BTreeSet<_> = hs
            .iter()
            .flat_map(|h| h.products.iter().map(|m| m.product.id.value.to_string()))
            .collect();
        assert_eq!(products.len(), manifests.len());
        assert!(hs.iter().any(|h| !h.grants.is_empty()));
    }

    #[test]
    fn only_the_fitness_band_is_personal() {
        let manifests = crate::simulate::manifests::load(None).unwrap();
        let personal: Vec<_> = manifests
            .iter()
            .filter(|m| is_personal(m))
            .map(|m| m.product.id.value.to_string())
            .collect();
        assert_eq!(personal, ["stride-band-4"]);
    }
}
