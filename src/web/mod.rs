//! What people see in a browser: the practitioner page (`/`), public profile and case pages
//! (`/experts/{id}`, `/cases/{id}`), the staff desk (`/admin`), the embeddable widget and the
//! iframe page, and the static files and interface strings they load. Everything is built into
//! the binary (templates, scripts, styles, one strings file per language); no build step. No
//! HTTP framework here: pages come out as `Page` values that `http` turns into responses.

mod assets;
mod records;
mod render;

use std::borrow::Cow;

pub use records::{case_page, expert_page};

use crate::locale::Locale;

/// Pages load scripts, styles and data only from their own origin, and `/` may not be framed
/// elsewhere (`/embed` may).
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'";
const EMBED_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'";

/// A page or file, ready to be sent.
#[derive(Clone, Debug)]
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Cow<'static, [u8]>,
    pub cache_control: &'static str,
    pub content_security_policy: Option<&'static str>,
    /// The language the page is written in (for `Content-Language` and `Vary`).
    pub language: Option<Locale>,
    /// Where a moved record went (with a 308).
    pub location: Option<String>,
    /// The same content as JSON, for a `Link: <…>; rel="alternate"` header.
    pub alternate_json: Option<String>,
    /// A validator for static files.
    pub etag: Option<String>,
}

impl Page {
    fn html(status: u16, body: String, language: Locale, policy: &'static str) -> Page {
        Page {
            status,
            content_type: "text/html; charset=utf-8",
            body: Cow::Owned(body.into_bytes()),
            cache_control: "no-cache",
            content_security_policy: Some(policy),
            language: Some(language),
            location: None,
            alternate_json: None,
            etag: None,
        }
    }

    /// A permanent redirect (a merged record's page).
    fn moved(location: String) -> Page {
        Page {
            status: 308,
            content_type: "text/plain; charset=utf-8",
            body: Cow::Owned(format!("moved to {location}").into_bytes()),
            cache_control: "no-cache",
            content_security_policy: None,
            language: None,
            location: Some(location),
            alternate_json: None,
            etag: None,
        }
    }
}

/// The practitioner page: match a challenge, search profiles and cases.
pub fn practitioner_page(locale: Locale) -> Page {
    render::page("index.html", locale, PAGE_POLICY)
}

/// The page portals put in an iframe.
pub fn embed_page(locale: Locale) -> Page {
    render::page("embed.html", locale, EMBED_POLICY)
}

/// The staff desk; it works only through the admin API.
pub fn staff_desk(locale: Locale) -> Page {
    render::page("admin.html", locale, PAGE_POLICY)
}

/// A friendly 404 page for paths no page has.
pub fn not_found_page(locale: Locale) -> Page {
    render::not_found(locale, "page", "")
}

/// A file under `static/` (scripts, styles, the widget), or `None`.
pub fn static_file(path: &str) -> Option<Page> {
    assets::static_file(path)
}

/// The interface strings of one language as JSON (missing ones filled in from English), for
/// scripts; `None` for a language the platform does not have.
pub fn interface_strings(code: &str) -> Option<Page> {
    let locale = Locale::from_code(code).filter(|locale| locale.code() == code)?;
    let body = serde_json::to_vec(&assets::strings(locale)).ok()?;
    Some(Page {
        status: 200,
        content_type: "application/json; charset=utf-8",
        body: Cow::Owned(body),
        cache_control: "public, max-age=300",
        content_security_policy: None,
        language: Some(locale),
        location: None,
        alternate_json: None,
        etag: None,
    })
}
