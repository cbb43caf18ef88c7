//! Keyset paging for lists that grow with the instance (users, sessions, API keys).
//!
//! A list answers at most `limit` rows (default and ceiling [`MAX_LIMIT`]) and, when more
//! remain, a `nextCursor`: an opaque string naming the last row sent. The next page is the rows
//! after it in the list's order, read through an index, so a page costs the same on the
//! millionth row as on the first and memory never holds more than one page. Without `limit`
//! and `cursor` an instance with fewer rows than a page answers exactly what the documents
//! describe.
use crate::error::{AppError, ErrorKind};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The most rows one page holds, and the page size when none is asked for.
pub const MAX_LIMIT: usize = 1000;

/// Which page a caller asked for.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: usize,
    /// The sort key of the last row already sent, decoded.
    pub after: Option<String>,
}

impl PageRequest {
    /// The first page of the default size.
    pub fn first(limit: usize) -> Self {
        Self { limit: limit.clamp(1, MAX_LIMIT), after: None }
    }

    /// Pages of `limit` rows (a page's own size, not a caller's), from `cursor` (checked).
    pub fn sized(limit: usize, cursor: Option<&str>) -> Result<Self, AppError> {
        Ok(Self { limit: limit.clamp(1, MAX_LIMIT), ..Self::parse(None, cursor)? })
    }

    /// From the query's `limit` and `cursor` (both optional, both checked).
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, AppError> {
        let limit = match limit.map(str::trim).filter(|s| !s.is_empty()) {
            None => MAX_LIMIT,
            Some(raw) => {
                raw.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                    AppError::invalid(
                        ErrorKind::InvalidRequest,
                        Some("limit"),
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}."),
                    )
                })?
            }
        };
        let after = match cursor.filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(
                URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|s| !s.is_empty() && s.len() <= 512 && !s.chars().any(char::is_control))
                    .ok_or_else(|| {
                        AppError::invalid(
                            ErrorKind::InvalidRequest,
                            Some("cursor"),
                            "cursor is not one this server gave out.",
                        )
                    })?,
            ),
        };
        Ok(Self { limit, after })
    }

    /// How many rows to read: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit as i64 + 1
    }

    /// The cursor split as `<number>:<text>` (the key of lists ordered by a time, then an id).
    pub fn after_pair(&self) -> Result<Option<(i64, &str)>, AppError> {
        let Some(after) = &self.after else { return Ok(None) };
        after.split_once(':').and_then(|(n, id)| Some((n.parse().ok()?, id))).map(Some).ok_or_else(|| {
            AppError::invalid(
                ErrorKind::InvalidRequest,
                Some("cursor"),
                "cursor is not one this server gave out.",
            )
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `rows` (read with [`PageRequest::fetch`]) to the page and names the next one by
    /// `key` of its last row.
    pub fn of(mut rows: Vec<T>, req: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > req.limit;
        rows.truncate(req.limit);
        let next = more.then(|| rows.last().map(|r| URL_SAFE_NO_PAD.encode(key(r)))).flatten();
        Self { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next_cursor<T>(page: &Page<T>) -> Option<&str> {
        page.next.as_deref()
    }

    #[test]
    fn limits_and_cursors_are_checked_and_round_trip() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, MAX_LIMIT);
        assert_eq!(PageRequest::parse(Some("5"), None).unwrap().limit, 5);
        for bad in ["0", "-1", "1001", "ten", "1e3"] {
            let e = PageRequest::parse(Some(bad), None).unwrap_err();
            assert_eq!((e.status(), e.field()), (400, Some("limit")), "{bad}");
        }
        for bad in ["***", "%%", "AA"] {
            let e = PageRequest::parse(None, Some(bad)).unwrap_err();
            assert_eq!((e.status(), e.field()), (400, Some("cursor")), "{bad}");
        }
        let req = PageRequest::parse(Some("2"), None).unwrap();
        let page = Page::of(vec![(1, "a"), (2, "b"), (3, "c")], &req, |r| format!("{}:{}", r.0, r.1));
        assert_eq!(page.items.len(), 2);
        let next = PageRequest::parse(Some("2"), page.next.as_deref()).unwrap();
        assert_eq!(next.after_pair().unwrap(), Some((2, "b")));
        assert_eq!(PageRequest::sized(5000, next_cursor(&page)).unwrap().limit, MAX_LIMIT);
        let last = Page::of(vec![(3, "c")], &next, |r| r.1.to_owned());
        assert!(last.next.is_none());
    }
}
