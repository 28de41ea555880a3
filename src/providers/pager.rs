//! Walking paged lists: the first page says how many there are, the rest are fetched with
//! bounded concurrency and yielded in page order.

use std::future::Future;
use std::sync::Arc;

use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// `meta.pagination` as CometChat sends it (snake_case).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub per_page: u64,
    #[serde(default)]
    pub current_page: u64,
    #[serde(default)]
    pub total_pages: u64,
}

impl Pagination {
    /// The pagination of an unpaged list of `count` items.
    pub fn single(count: u64) -> Self {
        Self {
            total: count,
            count,
            per_page: count,
            current_page: 1,
            total_pages: 1,
        }
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub pagination: Pagination,
}

/// Fetches page 1, then pages 2..=total_pages with at most `concurrency` in flight, yielding
/// them in order. Dropping the stream stops the walk; requests already sent finish on their own.
pub fn pages<T, F, Fut>(
    concurrency: usize,
    fetch: F,
) -> impl Stream<Item = Result<Page<T>, ApiError>> + Send + 'static
where
    T: Send + 'static,
    F: Fn(u32) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T>, ApiError>> + Send + 'static,
{
    let fetch = Arc::new(fetch);
    let first = fetch(1);
    stream::once(first).flat_map(
        move |first| -> BoxStream<'static, Result<Page<T>, ApiError>> {
            match first {
                Err(e) => stream::iter([Err(e)]).boxed(),
                Ok(page) => {
                    let last = u32::try_from(page.pagination.total_pages).unwrap_or(u32::MAX);
                    let fetch = Arc::clone(&fetch);
                    let rest = stream::iter(2..=last.max(1))
                        .map(move |p| fetch(p))
                        .buffered(concurrency.max(1));
                    stream::iter([Ok(page)]).chain(rest).boxed()
                }
            }
        },
    )
}

/// Collects every item of every page, stopping at the first error.
pub async fn collect<T>(
    pages: impl Stream<Item = Result<Page<T>, ApiError>>,
) -> Result<Vec<T>, ApiError> {
    let pages: Vec<Page<T>> = pages.try_collect().await?;
    Ok(pages.into_iter().flat_map(|p| p.items).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn page(n: u32, total_pages: u64) -> Page<u32> {
        Page {
            items: vec![n * 10, n * 10 + 1],
            pagination: Pagination {
                total: total_pages * 2,
                count: 2,
                per_page: 2,
                current_page: n.into(),
                total_pages,
            },
        }
    }

    #[tokio::test]
    async fn pages_come_back_in_order_and_each_is_fetched_once() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = Arc::clone(&calls);
        let s = pages(3, move |n| {
            c.fetch_add(1, Ordering::SeqCst);
            async move {
                // Later pages answer sooner, to prove the order is restored.
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(10 - n))).await;
                Ok(page(n, 5))
            }
        });
        let items = collect(s).await.unwrap();
        assert_eq!(items, vec![10, 11, 20, 21, 30, 31, 40, 41, 50, 51]);
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn the_first_error_ends_the_collection() {
        let s = pages(2, |n| async move {
            if n == 3 {
                Err(ApiError::bad_response("page 3 broke"))
            } else {
                Ok(page(n, 4))
            }
        });
        let e = collect(s).await.unwrap_err();
        assert_eq!(e.message, "page 3 broke");
    }
}
