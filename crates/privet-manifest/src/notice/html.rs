//! The notice as a complete, self-contained HTML page (askama template `notice.html`).

use super::Error;
use super::model::{ChildrenSummary, Notice};
use askama::Template;

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage<'a> {
    n: &'a Notice,
    switched_off_intro: &'static str,
}

/// Renders `notice` through the template, which escapes every value.
pub(super) fn render(notice: &Notice) -> Result<String, Error> {
    NoticePage {
        n: notice,
        switched_off_intro: ChildrenSummary::SWITCHED_OFF,
    }
    .render()
    .map_err(|source| Error::Render {
        product: notice.product.id.clone(),
        source,
    })
}
