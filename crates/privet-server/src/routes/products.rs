//! `GET /v1/products`, `GET /v1/products/{id}`: the manifests this instance enforces. Public.

use crate::error::ApiResult;
use crate::service::error::Missing;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A product in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    /// Product id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Maker.
    pub maker: String,
    /// Manifest version.
    pub version: String,
}

/// A product's manifest, as declared.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDetail {
    /// Summary.
    #[serde(flatten)]
    pub summary: ProductSummary,
    /// Purposes with basis and whether they need consent.
    pub purposes: Vec<PurposeView>,
    /// Streams with their fields.
    pub streams: Vec<StreamView>,
}

/// A purpose.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeView {
    /// Key.
    pub id: String,
    /// Plain-language description.
    pub description: String,
    /// fideslang data use.
    #[serde(rename = "use")]
    pub data_use: String,
    /// Lawful basis.
    pub basis: String,
    /// Off until the person switches it on.
    pub needs_consent: bool,
}

/// A stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamView {
    /// Key.
    pub id: String,
    /// `member`, `household` or `none`.
    pub subject: String,
    /// Fields.
    pub fields: Vec<FieldView>,
}

/// A field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldView {
    /// Key.
    pub name: String,
    /// Declared type.
    #[serde(rename = "type")]
    pub ty: String,
    /// fideslang category.
    pub category: String,
    /// Purposes.
    pub purposes: Vec<String>,
    /// Effective retention.
    pub retention: Option<String>,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(get_product))
}

fn summary(m: &privet_manifest::Manifest) -> ProductSummary {
    ProductSummary {
        id: m.product.id.to_string(),
        name: m.product.name.value.clone(),
        maker: m.product.maker.value.clone(),
        version: m.product.version().to_owned(),
    }
}

/// Every product this instance serves.
#[utoipa::path(get, path = "/v1/products", tag = "products", responses((status = 200, body = Vec<ProductSummary>)))]
async fn list_products(State(state): State<AppState>) -> Json<Vec<ProductSummary>> {
    Json(state.products().iter().map(|m| summary(m)).collect())
}

/// One product's declarations.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "Product id")),
    responses((status = 200, body = ProductDetail), (status = 404)))]
async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductDetail>> {
    let products = state.products();
    let m = products
        .get(&id)
        .ok_or(crate::service::error::ServiceError::NotFound(
            Missing::Product,
        ))?;
    Ok(Json(ProductDetail {
        summary: summary(m),
        purposes: m
            .purposes
            .iter()
            .map(|p| PurposeView {
                id: p.id.to_string(),
                description: p.description.value.clone(),
                data_use: p.data_use.value.clone(),
                basis: p.basis.value.to_string(),
                needs_consent: p.needs_consent(),
            })
            .collect(),
        streams: m
            .streams
            .iter()
            .map(|s| StreamView {
                id: s.id.to_string(),
                subject: s.subject.value.to_string(),
                fields: s
                    .fields
                    .iter()
                    .map(|f| FieldView {
                        name: f.name.to_string(),
                        ty: f.ty.value.to_string(),
                        category: f.category.value.clone(),
                        purposes: f.purposes.iter().map(|p| p.to_string()).collect(),
                        retention: f.effective_retention().map(|r| r.to_string()),
                    })
                    .collect(),
            })
            .collect(),
    }))
}
