//! HTML pages and the embeddable widget.

use axum::response::{Html, IntoResponse, Response};

pub async fn index_page() -> Response {
    Html("<!doctype html><title>citypeers</title>").into_response()
}

pub async fn widget_script() -> Response {
    ([("content-type", "application/javascript; charset=utf-8")], "").into_response()
}

pub async fn embed_page() -> Response {
    Html("<!doctype html><title>citypeers</title>").into_response()
}
