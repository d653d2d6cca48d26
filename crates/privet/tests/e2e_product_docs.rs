//! End-to-end: the contract's `GET /v1/products/{id}/notice` and `/label` routes: the notice as
//! Markdown or HTML, the label as JSON, text or HTML, with the day of the last material change
//! once a version made one. Public, like the product.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

#[test]
fn the_notice_and_the_label_are_served_in_each_format() {
    let inst = Instance::new();
    let (admin, _) = inst.operators();
    let server = inst.serve();
    let notice = server.get(&format!("/v1/products/{THERMOSTAT}/notice"), None);
    assert_eq!(notice.status, 200, "{}", notice.body);
    assert!(notice.header("content-type").starts_with("text/markdown"));
    assert!(
        notice.body.contains("Wren Smart Thermostat 2"),
        "{}",
        notice.body
    );
    let html = server.get(
        &format!("/v1/products/{THERMOSTAT}/notice?format=html"),
        None,
    );
    assert_eq!(html.status, 200);
    assert!(html.header("content-type").starts_with("text/html"));
    assert!(
        html.body.to_ascii_lowercase().contains("<html"),
        "{}",
        html.body
    );

    let label = server
        .get(&format!("/v1/products/{THERMOSTAT}/label"), None)
        .expect(200);
    assert_eq!(label["product"]["id"], THERMOSTAT, "{label}");
    assert!(
        label["primary"]["last_material_change"].is_null(),
        "{label}"
    );
    let text = server.get(
        &format!("/v1/products/{THERMOSTAT}/label?format=text"),
        None,
    );
    assert_eq!(text.status, 200);
    assert!(text.header("content-type").starts_with("text/plain"));
    assert!(!text.body.contains("Last material change"), "{}", text.body);
    let page = server.get(
        &format!("/v1/products/{THERMOSTAT}/label?format=html"),
        None,
    );
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));

    // A version with a material change: the label names the day (UK time) it was published.
    let v25 = std::fs::read_to_string(example_manifests().join("../versions/thermostat-2.5.toml"))
        .unwrap();
    server
        .post_raw("/v1/products", Some(&admin.secret), "application/toml", v25)
        .expect(201);
    let label = server
        .get(&format!("/v1/products/{THERMOSTAT}/label"), None)
        .expect(200);
    let day = label["primary"]["last_material_change"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(day.len(), 10, "a civil date: {label}");
    let text = server.get(
        &format!("/v1/products/{THERMOSTAT}/label?format=text"),
        None,
    );
    assert!(text.body.contains("Last material change"), "{}", text.body);

    server
        .get(
            &format!("/v1/products/{THERMOSTAT}/notice?format=pdf"),
            None,
        )
        .problem(400);
    server
        .get(&format!("/v1/products/{THERMOSTAT}/label?colour=red"), None)
        .problem(400);
    server
        .get("/v1/products/no-such-product/label", None)
        .problem(404);
    server
        .get("/v1/products/no-such-product/notice", None)
        .problem(404);
}
