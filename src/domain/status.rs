//! Publication status of a record: only `published` records are public.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Draft,
    Published,
    Archived,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Draft, Status::Published, Status::Archived];

    pub fn parse(raw: &str) -> Result<Status, String> {
        match raw.trim() {
            "draft" => Ok(Status::Draft),
            "published" => Ok(Status::Published),
            "archived" => Ok(Status::Archived),
            other => Err(format!(
                "'{}' is not a status: use draft, published or archived",
                super::id::truncate_for_message(other)
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
            Status::Archived => "archived",
        }
    }

    /// A small stable number for the search index.
    pub fn code(&self) -> u64 {
        match self {
            Status::Draft => 0,
            Status::Published => 1,
            Status::Archived => 2,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
