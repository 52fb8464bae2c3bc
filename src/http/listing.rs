//! What lets a listing be fetched ahead of its `next` links: the page numbers its links
//! show ([`PageNumbers`]) and how many pages may be asked at once ([`Window`]).

use url::Url;

/// The pages of a listing numbered by a `page` query parameter (Django REST
/// framework's `PageNumberPagination`): once a page's `next` is that page's URL with
/// `page` one higher and nothing else changed, the URL of every later page is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageNumbers {
    /// The `next` link the pattern was read from; its other parameters stay as written.
    template: Url,
}

/// The raw `page=N` segment of a query, when there is exactly one.
fn page_segment(query: &str) -> Option<(usize, u64)> {
    let mut found = None;
    for (i, segment) in query.split('&').enumerate() {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        if key == "page" {
            if found.is_some() {
                return None;
            }
            found = Some((i, value.parse::<u64>().ok()?));
        }
    }
    found
}

/// A query's parameters other than `page`, decoded and sorted: equal for two pages of
/// one listing, whatever order the server writes them in.
fn other_parameters(url: &Url) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
}

impl PageNumbers {
    /// The numbering of a listing when `next` (resolved, the link a page at `url` gave)
    /// is `url` with its `page` one higher and nothing else changed; with the number
    /// of `next`. `None` for any other link (a cursor, an offset, another path).
    pub fn from_link(url: &Url, next: &Url) -> Option<(PageNumbers, u64)> {
        let before_query = |u: &Url| u[..url::Position::BeforeQuery].to_owned();
        if before_query(url) != before_query(next)
            || url.fragment().is_some()
            || next.fragment().is_some()
        {
            return None;
        }
        let (_, current) = page_segment(url.query()?)?;
        let (_, number) = page_segment(next.query()?)?;
        if current.checked_add(1) != Some(number) || other_parameters(url) != other_parameters(next)
        {
            return None;
        }
        let numbers = PageNumbers {
            template: next.clone(),
        };
        Some((numbers, number))
    }

    /// The URL of page `number`: the template's query with only its `page` rewritten.
    pub fn url(&self, number: u64) -> Url {
        let mut url = self.template.clone();
        let query = url.query().unwrap_or_default();
        let rewritten: Vec<String> = query
            .split('&')
            .map(|segment| match segment.split_once('=') {
                Some(("page", _)) => format!("page={number}"),
                _ => segment.to_owned(),
            })
            .collect();
        url.set_query(Some(&rewritten.join("&")));
        url
    }
}

/// How many pages of one listing may be asked at once: at most `max`, halved when the
/// upstream answers 429 or 5xx (once per round: the answers of requests sent before a
/// cut do not cut again), and one more after a window's worth of pages came back
/// without one, up to `max` again. Shared by the requests of a listing.
#[derive(Debug)]
pub struct Window {
    max: usize,
    size: usize,
    /// Requests launched so far; each is numbered by the count before it.
    launched: u64,
    /// Requests numbered below this were sent before the last cut.
    cut_before: u64,
    /// Pages received without a busy answer since the size last changed.
    calm: usize,
    cuts: u32,
}

impl Window {
    pub fn new(max: usize) -> Window {
        let max = max.max(1);
        Window {
            max,
            size: max,
            launched: 0,
            cut_before: 0,
            calm: 0,
            cuts: 0,
        }
    }

    /// Pages that may be asked at once now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many times the window was halved.
    pub fn cuts(&self) -> u32 {
        self.cuts
    }

    /// A request is sent: its number, for [`Window::busy`] and [`Window::done`].
    pub fn launch(&mut self) -> u64 {
        self.launched += 1;
        self.launched - 1
    }

    /// Request `request` was answered 429 or 5xx.
    pub fn busy(&mut self, request: u64) {
        if request < self.cut_before {
            return;
        }
        let size = (self.size / 2).max(1);
        tracing::info!(
            "the API is busy: {size} page(s) at a time (was {})",
            self.size
        );
        self.size = size;
        self.cut_before = self.launched;
        self.calm = 0;
        self.cuts += 1;
    }

    /// Request `request` brought its page.
    pub fn done(&mut self, request: u64) {
        if request < self.cut_before || self.size == self.max {
            return;
        }
        self.calm += 1;
        if self.calm >= self.size {
            self.size += 1;
            self.calm = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_read_only_from_a_link_that_changes_the_page_alone() {
        let url = |s: &str| Url::parse(s).expect("test URL");
        let check = |current: &str, next: &str, expected: Option<(u64, &str)>| {
            let got = PageNumbers::from_link(&url(current), &url(next))
                .map(|(numbers, n)| (n, numbers.url(n + 1).to_string()));
            let expected = expected.map(|(n, u)| (n, u.to_owned()));
            assert_eq!(got, expected, "{current} -> {next}");
        };
        let a = "https://x.example/api/p/";
        check(
            &format!("{a}?page=1&page_size=100"),
            &format!("{a}?page=2&page_size=100"),
            Some((2, &format!("{a}?page=3&page_size=100"))),
        );
        // The server's order and spelling of the other parameters are kept.
        check(
            &format!("{a}?page=4&page_size=100&site_id=3"),
            &format!("{a}?site_id=3&page_size=100&page=5"),
            Some((5, &format!("{a}?site_id=3&page_size=100&page=6"))),
        );
        check(
            &format!("{a}?page=1&q=caf%C3%A9"),
            &format!("{a}?page=2&q=caf%C3%A9"),
            Some((2, &format!("{a}?page=3&q=caf%C3%A9"))),
        );
        for (current, next) in [
            ("?page=1", "?page=3"),
            ("?page=2", "?page=2"),
            ("?page=1&page_size=100", "?page=2&page_size=50"),
            ("?page=1", "?page=2&site_id=1"),
            ("?page=1", "?cursor=cD0yMDIz"),
            ("?offset=0&limit=100", "?offset=100&limit=100"),
            ("?page=1", "?page=two"),
            ("?page=1&page=1", "?page=2&page=2"),
            ("", "?page=2"),
        ] {
            check(&format!("{a}{current}"), &format!("{a}{next}"), None);
        }
        check(
            &format!("{a}?page=1"),
            "https://x.example/api/q/?page=2",
            None,
        );
        check(
            &format!("{a}?page=1"),
            "https://y.example/api/p/?page=2",
            None,
        );
        check(&format!("{a}?page=1"), &format!("{a}?page=2#top"), None);
    }

    #[test]
    fn the_window_halves_once_per_round_and_grows_back_slowly() {
        let mut w = Window::new(8);
        let sent: Vec<u64> = (0..8).map(|_| w.launch()).collect();
        // Four answers of the same round say busy: one cut.
        for &r in &sent[..4] {
            w.busy(r);
        }
        assert_eq!((w.size(), w.cuts()), (4, 1));
        // Pages of the round before the cut do not count as calm.
        for &r in &sent[4..] {
            w.done(r);
        }
        assert_eq!(w.size(), 4);
        // A request sent after the cut says busy: a second cut.
        let late = w.launch();
        w.busy(late);
        assert_eq!((w.size(), w.cuts()), (2, 2));
        w.busy(late);
        assert_eq!(w.size(), 2, "the same round cuts once");
        // One more after a window's worth of calm pages, never past the maximum.
        let mut grown = Vec::new();
        for _ in 0..40 {
            let r = w.launch();
            w.done(r);
            grown.push(w.size());
        }
        assert_eq!(&grown[..6], &[2, 3, 3, 3, 4, 4]);
        assert_eq!(grown.last(), Some(&8));
        let mut one = Window::new(1);
        let r = one.launch();
        one.busy(r);
        assert_eq!(one.size(), 1, "never below one");
        assert_eq!(Window::new(0).size(), 1);
    }
}
