//! Offset paging over one of Clerk's listings, written once for every sync loop: the offset of
//! the next page, the end at the first short page, and the pause between pages.

use std::time::Duration;

use super::PAGE_SIZE;

pub(super) struct Pages {
    next: Option<usize>,
    pause: Duration,
}

impl Pages {
    /// From the first page; `pause` is waited before every page after it.
    pub(super) fn new(pause: Duration) -> Self {
        Self { next: Some(0), pause }
    }

    /// The offset to fetch, or `None` once a page came back short.
    pub(super) async fn next(&mut self) -> Option<usize> {
        let offset = self.next?;
        if offset > 0 && !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        Some(offset)
    }

    /// The page just fetched held `rows`: a full page means there may be more.
    pub(super) fn fetched(&mut self, rows: usize) {
        self.next = match self.next {
            Some(offset) if rows >= PAGE_SIZE => Some(offset + PAGE_SIZE),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_until_a_short_one() {
        let mut pages = Pages::new(Duration::ZERO);
        let mut offsets = Vec::new();
        let mut sizes = [PAGE_SIZE, PAGE_SIZE, 3].into_iter();
        while let Some(offset) = pages.next().await {
            offsets.push(offset);
            pages.fetched(sizes.next().unwrap_or(0));
        }
        assert_eq!(offsets, [0, PAGE_SIZE, 2 * PAGE_SIZE]);
        let mut empty = Pages::new(Duration::ZERO);
        assert_eq!(empty.next().await, Some(0));
        empty.fetched(0);
        assert_eq!(empty.next().await, None);
    }
}
